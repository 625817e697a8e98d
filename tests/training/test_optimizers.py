import keras
import numpy as np
import pytest

from keras_chattn.training import ScaledSGD


def one_step(optimizer):
    fast = keras.Variable(np.ones(3, "float32"), name="fast")
    slow = keras.Variable(np.ones(3, "float32"), name="slow")
    frozen = keras.Variable(np.ones(3, "float32"), name="frozen")
    optimizer.build([fast, slow, frozen])
    grads = [keras.ops.ones(3)] * 3
    optimizer.apply(grads, [fast, slow, frozen])
    return [1.0 - float(np.asarray(v)[0]) for v in (fast, slow, frozen)]


def test_each_group_steps_by_its_factor():
    steps = one_step(
        ScaledSGD(scales=[("slow", 0.1), ("frozen", 0.0)], learning_rate=0.5)
    )
    np.testing.assert_allclose(steps, [0.5, 0.05, 0.0], rtol=1e-6)


def test_first_match_wins_and_config_round_trip():
    optimizer = ScaledSGD(scales=[("attention", 2.0), (".", 0.5)])
    assert optimizer.scale_of("conv2_block1_attention/reduce/kernel") == 2.0
    assert optimizer.scale_of("conv1_conv/kernel") == 0.5
    again = ScaledSGD.from_config(optimizer.get_config())
    assert again.scales == optimizer.scales


@pytest.mark.parametrize(
    "scales, message",
    [
        ([("a", -1.0)], r"scales factor must be a number in \[0.0, inf\)"),
        ([("(", 1.0)], r"'\(' is not a regular expression"),
        (["a"], r"scales must be a list of \(pattern, factor\) pairs"),
    ],
)
def test_bad_scales(scales, message):
    with pytest.raises(ValueError, match=message):
        ScaledSGD(scales=scales)
