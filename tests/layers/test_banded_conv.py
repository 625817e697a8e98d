"""The banded form of a "same" convolution to one map equals the direct one.

SpatialAttention convolves narrow maps (width <= 32) on TensorFlow and JAX
as banded matrix products (keras_chattn/layers/banded_conv.py); forward
values and gradients must be those of the Conv2D it replaces, including
maps narrower than the kernel, where the band is cut by the zero padding.
"""

import keras
import numpy as np
import pytest

from keras_chattn.layers import SpatialAttention
from keras_chattn.layers._kernels import banded_conv
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def direct_conv(inputs, kernel):
    return keras.ops.conv(
        inputs, kernel, strides=1, padding="same", data_format="channels_last"
    )


@pytest.mark.parametrize(
    "height, width, channels, kernel_size",
    [(9, 8, 2, 7), (5, 3, 2, 7), (4, 1, 2, 7), (11, 13, 3, 5), (6, 32, 2, 3)],
)
def test_banded_equals_direct_convolution(height, width, channels, kernel_size):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, height, width, channels)).astype("float32")
    kernel = rng.normal(size=(kernel_size, kernel_size, channels, 1))
    kernel = kernel.astype("float32")
    np.testing.assert_allclose(
        to_numpy(banded_conv.banded_conv2d(x, kernel)),
        to_numpy(direct_conv(x, kernel)),
        rtol=1e-5,
        atol=1e-5,
    )


def test_banded_form_ignores_a_channels_first_image_data_format():
    # A channels_first model sets the global format; the descriptor the
    # banded form reads is channels_last whatever that is.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 9, 2)).astype("float32")
    kernel = rng.normal(size=(7, 7, 2, 1)).astype("float32")
    expected = to_numpy(direct_conv(x, kernel))
    keras.config.set_image_data_format("channels_first")
    try:
        got = to_numpy(banded_conv.banded_conv2d(x, kernel))
    finally:
        keras.config.set_image_data_format("channels_last")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_band_selector_is_the_shifted_identity():
    selector = banded_conv.band_selector(width=4, kernel_size=3)
    # dx = 0 reads the column to the left, dx = 1 the same, dx = 2 the right.
    np.testing.assert_array_equal(selector[1], np.eye(4))
    np.testing.assert_array_equal(selector[0], np.eye(4, k=1))
    np.testing.assert_array_equal(selector[2], np.eye(4, k=-1))


def layer_pair(shape):
    """Two SpatialAttention layers with the same weights; the second one
    is called with the banded form switched off."""
    layers = []
    for _ in range(2):
        layer = SpatialAttention()
        layer.build(shape)
        harness.randomize_weights(layer)
        layers.append(layer)
    for source, target in zip(
        layers[0].weights, layers[1].weights, strict=True
    ):
        target.assign(source)
    return layers


@pytest.mark.skipif(
    keras.backend.backend() not in banded_conv.BANDED_BACKENDS,
    reason="this backend always takes the direct convolution",
)
@pytest.mark.parametrize("width", [5, 16])
def test_spatial_attention_gradients_equal_the_direct_form(width, monkeypatch):
    x = np.random.default_rng(2).normal(size=(2, 7, width, 6))
    x = x.astype("float32")
    banded, direct = layer_pair(x.shape)
    assert banded_conv.use_banded(width)
    expected_output = to_numpy(banded(x, training=True))
    expected = harness.gradients(banded, [x])
    monkeypatch.setattr(banded_conv, "BANDED_MAX_WIDTH", 0)
    np.testing.assert_allclose(
        to_numpy(direct(x, training=True)),
        expected_output,
        rtol=1e-5,
        atol=1e-6,
    )
    got = harness.gradients(direct, [x])
    assert len(got) == len(expected) == 4  # input, kernel, gamma, beta
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-6)


def test_wide_maps_take_the_direct_convolution_and_match_numpy():
    width = banded_conv.BANDED_MAX_WIDTH + 3
    assert not banded_conv.use_banded(width)
    x = np.random.default_rng(3).normal(size=(2, 4, width, 5))
    x = x.astype("float32")
    layer = SpatialAttention(use_batchnorm=False)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    kernel = np.array(layer.conv.kernel, "float64")
    expected = reference.spatial_attention(x.astype("float64"), kernel, None)
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6
    )


def test_unknown_height_with_known_width(monkeypatch):
    inputs = keras.Input((None, 12, 4))
    layer = SpatialAttention()
    model = keras.Model(inputs, layer(inputs))
    harness.randomize_weights(layer)
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=(2, h, 12, 4)).astype("float32") for h in (3, 10)]
    got = [to_numpy(model(x)) for x in xs]
    monkeypatch.setattr(banded_conv, "BANDED_MAX_WIDTH", 0)
    for x, y in zip(xs, got, strict=True):
        assert y.shape == x.shape
        np.testing.assert_allclose(y, to_numpy(layer(x)), rtol=1e-5, atol=1e-6)
