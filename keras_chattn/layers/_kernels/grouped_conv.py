"""A grouped convolution written as a depthwise convolution and a sum.

Keras' TensorFlow backend runs a grouped `Conv2D` on the CPU only inside an
XLA-compiled function (TensorFlow's own grouped kernel is missing there), and
tf2onnx cannot read that function: a model holding one exports to an ONNX
graph that ONNX Runtime refuses (`INVALID_GRAPH ... StatefulPartitionedCall`).
The same convolution as a depthwise convolution whose outputs are summed
within each group does the same multiply-adds, runs on every backend and
exporter (ONNX `Conv` with `group`, LiteRT `DEPTHWISE_CONV_2D`), and keeps the
`Conv2D` kernel layout, so weights saved before load unchanged. That form is
what runs on TensorFlow; JAX runs the dense convolution with the
block-diagonal kernel (XLA's CPU backward passes of grouped and depthwise
convolutions are far slower than a dense one's) and PyTorch its native
grouped convolution.
"""

import keras
from keras import ops

from keras_chattn.layers._kernels.choice import forced_direct


def grouped_conv2d(conv, x):
    """`conv(x)` for a grouped "valid" `Conv2D` on a channels_last `x`:
    `grouped_conv` with its kernel, strides and dilation, plus its bias
    if it has one (every backend and exporter runs it), or inside
    `direct_forms()` the layer itself."""
    if forced_direct():
        return conv(x)
    y = grouped_conv(
        x,
        ops.cast(conv.kernel, conv.compute_dtype),
        conv.groups,
        strides=conv.strides[0],
        dilation_rate=conv.dilation_rate[0],
    )
    if conv.use_bias:
        y = y + ops.cast(conv.bias, y.dtype)
    return y


def grouped_conv(inputs, kernel, groups, strides=1, dilation_rate=1):
    """A "valid" grouped convolution of a channels_last map.

    Output channel `f` of group `g = f // (filters / groups)` sums input
    channels `g * C/groups ... (g + 1) * C/groups - 1`, each convolved with
    `kernel[..., c % (C/groups), f]`, as `keras.layers.Conv2D(groups=groups)`
    computes it.

    Args:
        inputs: `(N, H, W, C)` tensor.
        kernel: `(kh, kw, C / groups, filters)` kernel, `Conv2D`'s layout.
        groups: number of groups; divides `C` and `filters`.
        strides: int stride.
        dilation_rate: int dilation.

    Returns:
        `(N, H', W', filters)` tensor.

    Examples:

        >>> import numpy as np
        >>> import keras
        >>> from keras_chattn.layers._kernels.grouped_conv import grouped_conv
        >>> conv = keras.layers.Conv2D(8, 3, groups=4, use_bias=False)
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(2, 6, 6, 8)).astype("float32")
        >>> expected = keras.ops.convert_to_numpy(conv(x))
        >>> got = keras.ops.convert_to_numpy(grouped_conv(x, conv.kernel, 4))
        >>> bool(np.abs(got - expected).max() < 1e-5)
        True
    """
    kernel_h, kernel_w, group_in, filters = kernel.shape
    backend = keras.backend.backend()
    if groups == 1 or backend == "torch":
        # PyTorch runs grouped convolutions natively (the kernel's input
        # width C / groups says how many groups).
        return ops.conv(
            inputs,
            kernel,
            strides=strides,
            dilation_rate=dilation_rate,
            data_format="channels_last",
        )
    group_out = filters // groups
    if backend == "jax":
        # XLA's CPU backward pass of a grouped (or depthwise) convolution
        # is far slower than a dense one's: SK's training step takes 3.2 s
        # with the native grouped convolution and 0.16 s with this dense
        # one on the block-diagonal kernel (groups times the multiply-adds,
        # every added one a zero), `benchmarks/block_profile.py --block sk
        # --shape 128,32,32,16 --kwargs '{"filters": 16, "groups": 8}'`.
        blocks = ops.reshape(
            kernel, (kernel_h, kernel_w, group_in, groups, group_out)
        )
        dense = ops.einsum(
            "hwcgo,Gg->hwGcgo", blocks, ops.eye(groups, dtype=kernel.dtype)
        )
        return ops.conv(
            inputs,
            ops.reshape(
                dense, (kernel_h, kernel_w, groups * group_in, filters)
            ),
            strides=strides,
            dilation_rate=dilation_rate,
            data_format="channels_last",
        )
    # Depthwise output channel c * group_out + m holds input channel c
    # (group g, position i in it) convolved with kernel[..., i, g * group_out
    # + m].
    depthwise_kernel = ops.reshape(
        ops.transpose(
            ops.reshape(
                kernel, (kernel_h, kernel_w, group_in, groups, group_out)
            ),
            (0, 1, 3, 2, 4),
        ),
        (kernel_h, kernel_w, groups * group_in, group_out),
    )
    y = ops.depthwise_conv(
        inputs,
        depthwise_kernel,
        strides=strides,
        dilation_rate=dilation_rate,
        data_format="channels_last",
    )
    if group_in == 1:
        return y
    _, height, width, _ = ops.shape(y)
    y = ops.reshape(y, (-1, height, width, groups, group_in, group_out))
    return ops.reshape(ops.sum(y, axis=4), (-1, height, width, filters))
