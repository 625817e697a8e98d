"""Reshaping feature maps to per-channel rows and back, and nearest resizing.

Shared by the blocks that treat each channel's map as a vector (C3, the
CC-block). `keras.ops` only; sizes may be unknown until run time.
"""

from keras import ops

from keras_chattn.utils import layout
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


def _area(size):
    area = 1
    for extent in size:
        area *= extent
    return area


def to_channel_rows(x, size, data_format):
    """(batch, ...) map -> (batch, C, h * w), nearest-resized to `size`.

    Any rank: `size` has one entry per spatial axis (the length of a
    sequence, (d, h, w) of a volume) and a row holds their product.
    """
    ndim = len(x.shape)
    axes = spatial_axes(data_format, ndim)
    if tuple(x.shape[a] for a in axes) != tuple(size):
        x = resize_nearest(x, size, axes)
    if data_format == "channels_last":
        x = ops.transpose(x, layout.to_channels_first_axes(ndim))
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0], shape[1], _area(size)))


def from_channel_rows(rows, size, like, data_format):
    """(batch, C, h * w) -> a map with the layout and size of `like`."""
    shape = ops.shape(rows)
    ndim = len(like.shape)
    x = ops.reshape(rows, (shape[0], shape[1], *size))
    if data_format == "channels_last":
        x = ops.transpose(x, layout.to_channels_last_axes(ndim))
    axes = spatial_axes(data_format, ndim)
    if tuple(like.shape[a] for a in axes) != tuple(size):
        like_shape = ops.shape(like)
        x = resize_nearest(x, tuple(like_shape[a] for a in axes), axes)
    return x
