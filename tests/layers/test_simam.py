import keras
import numpy as np
import pytest

from keras_chattn.layers import SimAM
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    harness.LayerCase(SimAM, {}, (6, 7, 16), trainable=0),
    harness.LayerCase(
        SimAM, {"e_lambda": 0.1}, (1, 1, 8), trainable=0, id="SimAM-1x1"
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize("e_lambda", [1e-4, 0.1])
def test_matches_numpy_reference(e_lambda):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 7)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(SimAM(e_lambda)(x)),
        reference.simam(x.astype("float64"), e_lambda),
        rtol=1e-5,
        atol=1e-6,
    )


def test_float16_statistics_on_a_large_map_are_right():
    # A float16 sum of 128 * 128 squared deviations of size ~100 would be
    # inf; the statistics run in float32.
    x = (
        np.random.default_rng(1)
        .normal(0, 10, (1, 128, 128, 4))
        .astype("float32")
    )
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        y = to_numpy(keras.ops.cast(SimAM()(x), "float32"))
    finally:
        keras.config.set_dtype_policy(previous)
    np.testing.assert_allclose(
        y, reference.simam(x.astype("float64"), 1e-4), rtol=2e-3, atol=2e-2
    )


def test_bad_arguments():
    with pytest.raises(
        ValueError, match=r"e_lambda must be a finite number > 0"
    ):
        SimAM(e_lambda=0)
