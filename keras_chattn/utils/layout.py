"""Where the channel and spatial axes of a feature map are.

One place for the axis arithmetic every layer and builder needs: a 4-D map
is `(batch, height, width, channels)` for `"channels_last"` and
`(batch, channels, height, width)` for `"channels_first"`; a 3-D map (a
sequence) has one spatial axis, `(batch, length, channels)`, and a 5-D map
(a volume or clip) three, `(batch, depth, height, width, channels)`.
"""

import keras


def channel_axis(data_format):
    """-1 for `"channels_last"`, 1 for `"channels_first"`.

    Examples:

        >>> from keras_chattn.utils.layout import channel_axis
        >>> channel_axis("channels_last"), channel_axis("channels_first")
        (-1, 1)
    """
    return -1 if data_format == "channels_last" else 1


def spatial_axes(data_format, ndim=4):
    """The spatial axes of an `ndim`-D map.

    Examples:

        >>> from keras_chattn.utils.layout import spatial_axes
        >>> spatial_axes("channels_last"), spatial_axes("channels_first")
        ((1, 2), (2, 3))
        >>> spatial_axes("channels_last", 3), spatial_axes("channels_first", 5)
        ((1,), (2, 3, 4))
    """
    if data_format == "channels_last":
        return tuple(range(1, ndim - 1))
    return tuple(range(2, ndim))


def spatial_extent(shape, data_format):
    """The spatial sizes of a shape ((height, width) of a 4-D one)."""
    return tuple(shape[axis] for axis in spatial_axes(data_format, len(shape)))


def to_channels_last_axes(ndim):
    """The transpose that takes a channels_first map to channels_last."""
    return (0, *range(2, ndim), 1)


def to_channels_first_axes(ndim):
    """The transpose that takes a channels_last map to channels_first."""
    return (0, ndim - 1, *range(1, ndim - 1))


SPATIAL_NAMES = {3: ("length",), 4: ("height", "width")}
SPATIAL_NAMES[5] = ("depth", "height", "width")


def axes_description(data_format, ndim=4):
    """The axes of an `ndim`-D map in words, e.g.
    `"(batch, height, width, channels)"`."""
    names = SPATIAL_NAMES.get(ndim, tuple(f"dim{i}" for i in range(ndim - 2)))
    if data_format == "channels_last":
        axes = ("batch", *names, "channels")
    else:
        axes = ("batch", "channels", *names)
    return "(" + ", ".join(axes) + ")"


def with_channels(shape, channels, data_format):
    """`shape` with its channel dimension replaced by `channels`."""
    shape = list(shape)
    shape[channel_axis(data_format)] = channels
    return tuple(shape)


def image_data_format():
    """Keras' global data format, which the model builders follow."""
    return keras.config.image_data_format()
