"""grouped_conv against keras.layers.Conv2D(groups=...)."""

import keras
import numpy as np
import pytest

from keras_chattn.layers._kernels.grouped_conv import grouped_conv


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
