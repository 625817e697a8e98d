"""A 2-D "same" convolution to one map, computed as banded matrix products.

CBAM's spatial attention convolves a 2-channel map to 1 channel with a
7 x 7 kernel. oneDNN, TensorFlow's CPU convolution, runs so few channels
at a small fraction of its speed: on CIFAR ResNet-20's first stage (128 x
32 x 32) that convolution and its two gradients cost about as much as the
rest of the block. The same sum can be written with the image's columns
folded into the channels: for each kernel row dy,

    y[b, h, w] = sum_dy sum_(w', c) x[b, h + dy - r, w', c] T[dy, (w', c), w]

with T[dy, (w', c), w] = kernel[dy, w' - w + r, c] inside the band
|w' - w| <= r (r = kernel // 2) and 0 outside it, which is what "same"
zero padding does at the left and right edges. That is a 1-D convolution
over the rows, from W * C channels to W, which runs as dense matrix
products. It does W / kernel times the multiply-adds of the direct form,
so it pays only on narrow maps (`BANDED_MAX_WIDTH`); T is built from the
kernel in each step (a product with a constant 0/1 tensor), so the layer's
weight stays the Conv2D kernel and its gradient flows to it.
"""

import keras
import numpy as np
from keras import ops

from keras_chattn.layers._kernels.choice import forced_direct

# Widest map computed as banded products; wider ones use the direct
# convolution. `benchmarks/spatial_conv_forms.py` (the spatial half of CBAM
# alone, one training step, banded over direct, 2 cores; 16 images at
# width 56, 128 at 32, 16, 8, 16 at 28, 14): TensorFlow 0.98 / 0.70, 0.89,
# 0.88, 1.00, 1.04; JAX 0.92 / 0.30, 0.30, 0.38, 0.79, 0.79. PyTorch
# measured 0.98-1.07 at widths 56 to 8 (an earlier form of that
# comparison), so it keeps the direct form.
BANDED_MAX_WIDTH = 32
BANDED_BACKENDS = ("tensorflow", "jax")


def use_banded(width):
    """Whether a map of `width` columns is convolved as banded products:
    on TensorFlow and JAX, width known and at most `BANDED_MAX_WIDTH`, and
    not inside `direct_forms()`."""
    return (
        width is not None
        and width <= BANDED_MAX_WIDTH
        and keras.backend.backend() in BANDED_BACKENDS
        and not forced_direct()
    )


def spatial_conv(conv, x):
    """`conv(x)` for a "same" `Conv2D` to one map on a channels_last
    `x`, as banded products where `use_banded` says so (the same sum from
    the same kernel), else the layer itself (also on other ranks)."""
    width = x.shape[2] if len(x.shape) == 4 else None
    if use_banded(width):
        return banded_conv2d(x, conv.kernel)
    return conv(x)


def band_selector(width, kernel_size):
    """S[dx, w', w] = 1 where w' = w + dx - kernel_size // 2, float32."""
    offsets = np.arange(kernel_size)[:, None, None] - kernel_size // 2
    source = np.arange(width)[None, :, None]
    target = np.arange(width)[None, None, :]
    return (source == target + offsets).astype("float32")


def banded_conv2d(inputs, kernel):
    """`conv2d(inputs, kernel, padding="same")` to one output channel.

    Args:
        inputs: `(batch, height, width, channels)`, width known.
        kernel: `(kernel_h, kernel_w, channels, 1)`, odd sizes.

    Returns:
        `(batch, height, width, 1)`.
    """
    kernel_h, kernel_w, channels, _ = kernel.shape
    height, width = inputs.shape[1], inputs.shape[2]
    selector = ops.convert_to_tensor(band_selector(width, kernel_w))
    kernel = ops.cast(kernel, inputs.dtype)
    selector = ops.cast(selector, inputs.dtype)
    # T[dy, w', c, w], then (w', c) folded as the input's (width, channels).
    band = ops.einsum("yxc,xiw->yicw", kernel[..., 0], selector)
    band = ops.reshape(band, (kernel_h, width * channels, width))
    rows = height if height is not None else ops.shape(inputs)[1]
    folded = ops.reshape(inputs, (-1, rows, width * channels))
    # channels_last named: `ops.conv` would follow the global
    # image_data_format, which a channels_first model sets.
    outputs = ops.conv(
        folded, band, strides=1, padding="same", data_format="channels_last"
    )
    return ops.reshape(outputs, (-1, rows, width, 1))
