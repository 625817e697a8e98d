import numpy as np
import pytest

from keras_chattn.layers import ECA
from keras_chattn.layers.eca import adaptive_kernel_size
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    harness.LayerCase(ECA, {}, (6, 7, 256), trainable=5),
    harness.LayerCase(
        ECA,
        {"kernel_size": 3, "gate": "hard_sigmoid"},
        (5, 3, 32),
        trainable=3,
        id="ECA-k3",
    ),  # fmt: skip
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize(
    "channels, expected",
    # t = int(|(log2 C + 1) / 2|), then made odd (the paper's Eq. 12).
    [(1, 1), (16, 3), (64, 3), (128, 5), (256, 5), (1024, 5), (2048, 7)],
)
def test_adaptive_kernel_size(channels, expected):
    assert adaptive_kernel_size(channels) == expected
    layer = ECA()
    layer.build((None, 4, 4, channels))
    assert layer.count_params() == expected


def test_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 40)).astype("float32")
    layer = ECA(kernel_size=5)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    kernel = np.asarray(layer.get_weights()[0], "float64").reshape(-1)
    np.testing.assert_allclose(
        to_numpy(layer(x)), reference.eca(x.astype("float64"), kernel),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


def test_neighbouring_channels_only():
    # Perturbing one channel's mean moves the weights of its k neighbours
    # and of no other channel.
    layer = ECA(kernel_size=3)
    x = np.random.default_rng(1).normal(size=(1, 4, 4, 16)).astype("float32")
    layer.build(x.shape)
    harness.randomize_weights(layer)
    before = to_numpy(layer.channel_weights(x))
    x[..., 8] += 1.0
    moved = np.flatnonzero(
        ~np.isclose(to_numpy(layer.channel_weights(x)), before)
    )
    assert moved.tolist() == [7, 8, 9]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel_size": 4}, r"kernel_size must be an odd positive integer"),
        ({"kernel_size": 0}, r"kernel_size must be a positive integer"),
        ({"gamma": 0}, r"gamma must be a finite number > 0"),
        ({"gate": "sigmod"}, r"gate must be .* gate='sigmod'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ECA(**kwargs)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((None, 64), r"3-D, 4-D or 5-D input"),
        ((None, 7, 7, None), r"known channel dimension"),
        ((None, 0, 7, 8), r"every spatial size .* at least 1"),
    ],
)
def test_bad_input_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        ECA().build(shape)
