"""The image input of a model builder, with its size checked."""

import keras

from keras_chattn.utils import layout


def bn_axis():
    """The channel axis of Keras' global data format (for BatchNorm)."""
    return layout.channel_axis(layout.image_data_format())


def model_input(input_tensor, input_shape, default_size, min_size, model_name):
    """The model's input tensor, with its spatial size checked.

    Args:
        input_tensor: optional Keras tensor to build on.
        input_shape: optional shape without batch, in the global data format.
        default_size: (height, width, channels) used when neither is given.
        min_size: smallest height/width the network can downsample.
        model_name: for error messages.
    """
    data_format = layout.image_data_format()
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            input_tensor = keras.Input(tensor=input_tensor)
        shape = tuple(input_tensor.shape[1:])
    else:
        if input_shape is None:
            input_shape = _default_shape(default_size, data_format)
        shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"{model_name} takes images: input_shape must have 3 entries "
            "(height, width, channels) without the batch dimension. "
            f"Received: input_shape={shape}"
        )
    channels = shape[layout.channel_axis(data_format)]
    for size in shape:
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, int) or size < 1
        ):
            raise ValueError(
                f"{model_name}: every entry of input_shape must be a positive "
                f"int (or None for height and width). Received: "
                f"input_shape={shape}"
            )
    if channels is None:
        raise ValueError(
            f"{model_name} needs the number of image channels: input_shape's "
            f"channels entry must be known (None is allowed only for height "
            f"and width). Received: input_shape={shape}"
        )
    spatial = layout.spatial_extent((None, *shape), data_format)
    for size in spatial:
        if size is not None and size < min_size:
            raise ValueError(
                f"{model_name} downsamples its input by {min_size}, so height "
                f"and width must be at least {min_size} (or None). "
                f"Received: input_shape={shape}"
            )
    if input_tensor is not None:
        return input_tensor
    return keras.Input(shape)


def _default_shape(default_size, data_format):
    height, width, channels = default_size
    if data_format == "channels_last":
        return (height, width, channels)
    return (channels, height, width)
