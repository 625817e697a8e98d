"""Reshaping feature maps to per-channel rows and back, and nearest resizing.

Shared by the blocks that treat each channel's map as a vector (C3, the
CC-block). `keras.ops` only; sizes may be unknown until run time.
"""

from keras import ops

from keras_chattn.utils.layout import spatial_axes


def resize_nearest(x, size, axes):
    """Nearest-neighbour resize of `axes` to `size`, with half-pixel centres.

    Output index i reads input index floor((i + 0.5) * in / out), as
    TensorFlow's and JAX's "nearest" do; written with `take` so that the
    sizes may be unknown until run time, on every backend.
    """
    shape = ops.shape(x)
    for axis, out_size in zip(axes, size, strict=True):
        in_size = shape[axis]
        scale = ops.cast(in_size, "float32") / ops.cast(out_size, "float32")
        centres = (ops.cast(ops.arange(out_size), "float32") + 0.5) * scale
        index = ops.minimum(ops.cast(centres, "int32"), in_size - 1)
        x = ops.take(x, index, axis=axis)
    return x


def to_channel_rows(x, size, data_format):
    """(batch, ...) map -> (batch, C, h * w), nearest-resized to `size`."""
    axes = spatial_axes(data_format)
    if tuple(x.shape[a] for a in axes) != tuple(size):
        x = resize_nearest(x, size, axes)
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 3, 1, 2))
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0], shape[1], size[0] * size[1]))


def from_channel_rows(rows, size, like, data_format):
    """(batch, C, h * w) -> a map with the layout and size of `like`."""
    shape = ops.shape(rows)
    x = ops.reshape(rows, (shape[0], shape[1], size[0], size[1]))
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 3, 1))
    axes = spatial_axes(data_format)
    if tuple(like.shape[a] for a in axes) != tuple(size):
        like_shape = ops.shape(like)
        x = resize_nearest(x, tuple(like_shape[a] for a in axes), axes)
    return x
