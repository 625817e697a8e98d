"""The parameter-free "option A" shortcut of He et al.'s CIFAR ResNets."""

from typing import Any

import keras
from keras import ops

from keras_chattn.utils import layout
from keras_chattn.utils import validation


@keras.saving.register_keras_serializable(package="keras_chattn")
class ChannelPadShortcut(keras.layers.Layer):
    """Subsamples by `stride` and zero-pads channels up to `filters`.

    He et al. (2016), section 4.2, option A: "the shortcut still performs
    identity mapping, with extra zero entries padded for increasing
    dimensions", with no parameters. The new channels are split evenly before
    and after the existing ones (as the common PyTorch reference,
    akamaster/pytorch_resnet_cifar10, pads planes // 4 on each side).

    Args:
        filters: positive int, output channel count (>= input channels).
        stride: positive int, spatial subsampling (keeps every stride-th
            row and column, starting at 0).
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.models.shortcut import ChannelPadShortcut
        >>> x = np.ones((1, 8, 8, 16), "float32")
        >>> y = np.asarray(ChannelPadShortcut(32, stride=2)(x))
        >>> y.shape, float(y[0, 0, 0, :8].sum()), float(y[0, 0, 0].sum())
        ((1, 4, 4, 32), 0.0, 16.0)
    """

    def __init__(
        self,
        filters: int,
        stride: int = 1,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = validation.positive_int("filters", filters)
        self.stride = validation.positive_int("stride", stride)
        self.data_format = validation.data_format(data_format)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _channel_axis(self):
        return layout.channel_axis(self.data_format) % 4

    def build(self, input_shape):
        channels = input_shape[self._channel_axis()]
        if channels is None or channels > self.filters:
            raise ValueError(
                "ChannelPadShortcut pads channels up to filters, so the input "
                f"needs a known channel count <= filters={self.filters}. "
                f"Received: input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        s = self.stride
        if self.data_format == "channels_last":
            x = inputs[:, ::s, ::s, :]
        else:
            x = inputs[:, :, ::s, ::s]
        missing = self.filters - x.shape[self._channel_axis()]
        before = missing // 2
        padding = [[0, 0]] * 4
        padding[self._channel_axis()] = [before, missing - before]
        return ops.pad(x, padding)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis in layout.spatial_axes(self.data_format):
            if shape[axis] is not None:
                shape[axis] = -(-shape[axis] // self.stride)
        shape[self._channel_axis()] = self.filters
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "stride": self.stride,
            "data_format": self.data_format,
        }
