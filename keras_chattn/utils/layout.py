"""Where the channel and spatial axes of a feature map are.

One place for the axis arithmetic every layer and builder needs: a 4-D map
is `(batch, height, width, channels)` for `"channels_last"` and
`(batch, channels, height, width)` for `"channels_first"`.
"""

import keras


def channel_axis(data_format):
    """-1 for `"channels_last"`, 1 for `"channels_first"`.

    Example:

    >>> from keras_chattn.utils.layout import channel_axis
    >>> channel_axis("channels_last"), channel_axis("channels_first")
    (-1, 1)
    """
    return -1 if data_format == "channels_last" else 1


def spatial_axes(data_format):
    """(1, 2) for `"channels_last"`, (2, 3) for `"channels_first"`."""
    return (1, 2) if data_format == "channels_last" else (2, 3)


def spatial_extent(shape, data_format):
    """(height, width) of a 4-D shape."""
    return tuple(shape[axis] for axis in spatial_axes(data_format))


def with_channels(shape, channels, data_format):
    """`shape` with its channel dimension replaced by `channels`."""
    shape = list(shape)
    shape[channel_axis(data_format)] = channels
    return tuple(shape)


def image_data_format():
    """Keras' global data format, which the model builders follow."""
    return keras.config.image_data_format()
