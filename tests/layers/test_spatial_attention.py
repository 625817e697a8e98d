import keras
import numpy as np
import pytest

from keras_chattn.layers import SpatialAttention
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    # 7*7*2 conv weights + BN gamma and beta; moving mean and variance.
    harness.LayerCase(
        SpatialAttention, {}, (6, 7, 256), trainable=100, non_trainable=2
    ),
    harness.LayerCase(
        SpatialAttention,
        {"kernel_size": 3, "use_batchnorm": False},
        (9, 5, 8),
        trainable=18,
        id="SpatialAttention-k3-nobn",
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize("kernel_size", [1, 3, 7])
@pytest.mark.parametrize("use_batchnorm", [True, False])
def test_matches_numpy_reference(kernel_size, use_batchnorm):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 5)).astype("float32")
    layer = SpatialAttention(
        kernel_size=kernel_size, use_batchnorm=use_batchnorm
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    kernel = np.array(layer.conv.kernel, "float64")
    bn = None
    if use_batchnorm:
        bn = [
            np.array(w, "float64")
            for w in (
                layer.batchnorm.gamma,
                layer.batchnorm.beta,
                layer.batchnorm.moving_mean,
                layer.batchnorm.moving_variance,
            )
        ]
    expected = reference.spatial_attention(x.astype("float64"), kernel, bn)
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)), expected, rtol=1e-5, atol=1e-6
    )


def test_descriptor_order_is_max_then_mean():
    # A kernel that reads only the first descriptor channel at the centre.
    layer = SpatialAttention(kernel_size=1, use_batchnorm=False)
    layer.build((None, 2, 2, 3))
    layer.conv.kernel.assign(np.array([[[[1.0], [0.0]]]], "float32"))
    x = np.zeros((1, 2, 2, 3), "float32")
    x[0, 0, 0] = [3.0, -1.0, 1.0]  # max 3, mean 1
    y = to_numpy(layer(x))
    np.testing.assert_allclose(y[0, 0, 0], x[0, 0, 0] * reference.sigmoid(3.0))


def test_fresh_layer_halves_its_input():
    # gamma starts at 0 (official init), so the gate is sigmoid(0) = 0.5.
    layer = SpatialAttention()
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)), 0.5 * x, atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(layer(x, training=True)), 0.5 * x, atol=1e-6
    )


def test_unknown_channel_count_is_fine():
    # The weights do not depend on C, so nothing about C must be known.
    layer = SpatialAttention()
    model = keras.Sequential([keras.Input((None, None, None)), layer])
    for channels in (1, 5):
        x = np.ones((1, 6, 6, channels), "float32")
        assert model.predict(x, verbose=0).shape == x.shape


def test_batchnorm_updates_its_statistics_in_training():
    layer = SpatialAttention(batchnorm_momentum=0.5)
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
    layer.build(x.shape)
    layer.conv.kernel.assign(np.ones((7, 7, 2, 1), "float32"))
    layer(x, training=True)
    assert float(np.array(layer.batchnorm.moving_mean)[0]) != 0.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel_size": 4}, r"kernel_size must be an odd .* kernel_size=4"),
        ({"kernel_size": 0}, r"kernel_size must be a positive integer"),
        ({"kernel_size": -3}, r"kernel_size=-3"),
        ({"kernel_size": 7.0}, r"kernel_size=7\.0 of type float"),
        ({"use_batchnorm": 1}, r"use_batchnorm must be True or False"),
        ({"gate": "nope"}, r"gate must be .* gate='nope'"),
        ({"batchnorm_momentum": 1.5}, r"batchnorm_momentum must be a number"),
        (
            {"batchnorm_epsilon": 0},
            r"batchnorm_epsilon must be a finite number > 0",
        ),
        ({"data_format": "nchw"}, r"data_format must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpatialAttention(**kwargs)


@pytest.mark.parametrize("shape", [(None, 7), (None, 2, 3, 7, 7, 1)])
def test_bad_input_ranks(shape):
    with pytest.raises(ValueError, match=r"3-D, 4-D or 5-D input"):
        SpatialAttention().build(shape)
