"""The input of a model builder (an image, a sequence or a volume), with
its size checked."""

import keras

from keras_chattn.utils import layout

TAKES = {
    1: "sequences: input_shape must have 2 entries (length, channels)",
    2: "images: input_shape must have 3 entries (height, width, channels)",
    3: "volumes: input_shape must have 4 entries (depth, height, width, "
    "channels)",
}


def model_input(
    input_tensor,
    input_shape,
    default_size,
    min_size,
    model_name,
    spatial_dims=2,
):
    """The model's input tensor, with its spatial size checked.

    Args:
        input_tensor: optional Keras tensor to build on.
        input_shape: optional shape without batch, in the global data format.
        default_size: channels_last shape without batch ((height, width,
            channels) for images) used when neither is given.
        min_size: smallest spatial size the network can downsample.
        model_name: for error messages.
        spatial_dims: 2 for images, 1 for sequences, 3 for volumes.
    """
    data_format = layout.image_data_format()
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            input_tensor = keras.Input(tensor=input_tensor)
        shape = tuple(input_tensor.shape[1:])
    else:
        if input_shape is None:
            input_shape = _default_shape(default_size, data_format)
        if not isinstance(input_shape, (list, tuple)):
            raise ValueError(
                f"{model_name}: input_shape must be a tuple of sizes without "
                f"the batch dimension ({TAKES[spatial_dims]}). Received: "
                f"input_shape={input_shape!r}"
            )
        shape = tuple(input_shape)
    if len(shape) != spatial_dims + 1:
        raise ValueError(
            f"{model_name} takes {TAKES[spatial_dims]} without the batch "
            f"dimension (channels first for data_format='channels_first'). "
            f"Received: input_shape={shape}"
        )
    channels = shape[layout.channel_axis(data_format)]
    for size in shape:
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, int) or size < 1
        ):
            raise ValueError(
                f"{model_name}: every entry of input_shape must be a positive "
                f"int (or None for a spatial size). Received: "
                f"input_shape={shape}"
            )
    if channels is None:
        raise ValueError(
            f"{model_name} needs the number of image channels: input_shape's "
            f"channels entry must be known (None is allowed only for the "
            f"spatial sizes). Received: input_shape={shape}"
        )
    spatial = layout.spatial_extent((None, *shape), data_format)
    for size in spatial:
        if size is not None and size < min_size:
            raise ValueError(
                f"{model_name} downsamples its input by {min_size}, so every "
                f"spatial size must be at least {min_size} (or None). "
                f"Received: input_shape={shape}"
            )
    if input_tensor is not None:
        return input_tensor
    return keras.Input(shape)


def _default_shape(default_size, data_format):
    if data_format == "channels_last":
        return tuple(default_size)
    return (default_size[-1], *default_size[:-1])
