"""grouped_conv against keras.layers.Conv2D(groups=...)."""

import keras
import numpy as np
import pytest

from keras_chattn import layers
from keras_chattn.layers._kernels.choice import direct_forms
from keras_chattn.layers._kernels.grouped_conv import grouped_conv
from tests import harness
from tests.harness import to_numpy


@pytest.mark.parametrize(
    "channels, filters, groups, strides, dilation",
    [
        (8, 8, 1, 1, 1),
        (8, 16, 4, 1, 1),
        (16, 16, 4, 2, 1),
        (12, 12, 12, 1, 2),
        (32, 64, 8, 1, 2),
    ],
)
def test_matches_keras_grouped_conv2d(
    channels, filters, groups, strides, dilation
):
    conv = keras.layers.Conv2D(
        filters,
        3,
        strides=strides,
        dilation_rate=dilation,
        groups=groups,
        use_bias=False,
    )
    x = np.random.default_rng(0).normal(size=(2, 9, 9, channels))
    x = x.astype("float32")
    expected = keras.ops.convert_to_numpy(conv(x))
    got = keras.ops.convert_to_numpy(
        grouped_conv(x, conv.kernel, groups, strides, dilation)
    )
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_group_order_is_conv2d_order():
    # A kernel that passes each group's first input channel to the group's
    # outputs alone: output f must see input channel (f // 2) * 2.
    kernel = np.zeros((1, 1, 2, 8), "float32")
    kernel[0, 0, 0, :] = 1.0
    x = np.arange(8, dtype="float32").reshape(1, 1, 1, 8)
    y = keras.ops.convert_to_numpy(grouped_conv(x, kernel, groups=4))
    np.testing.assert_array_equal(y.ravel(), [0, 0, 2, 2, 4, 4, 6, 6])


@pytest.mark.parametrize(
    "layer",
    [
        layers.EfficientLocalAttention(
            use_bias=True, conv_groups=4, norm_groups=8
        ),
        layers.SplitAttention(32, groups=2),
    ],
    ids=["ela-biased", "splat"],
)
def test_blocks_with_biased_grouped_convs_equal_their_direct_form(layer):
    # grouped_conv2d adds a convolution's bias, as the layer itself does.
    x = np.random.default_rng(0).normal(size=(2, 9, 7, 32)).astype("float32")
    layer.build(x.shape)
    harness.randomize_weights(layer)
    fast = to_numpy(layer(x, training=False))
    with direct_forms():
        direct = to_numpy(layer(x, training=False))
    np.testing.assert_allclose(fast, direct, rtol=1e-5, atol=1e-5)
