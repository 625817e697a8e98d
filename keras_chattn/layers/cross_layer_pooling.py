"""The network-level bridge of the enhanced channel-wise attention report.

Reference: the report "Enhanced channel-wise attention based CNN"
(`../shared/papers/003_ab92a49cf68b73c0.txt`): the pooled outputs of every
convolution stage are concatenated and passed through a learned linear layer
that abstracts the most important channel-wise information before the
classifier.
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import ConfigErrorsNameTheLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import layout
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class CrossLayerPooling(ConfigErrorsNameTheLayer, keras.layers.Layer):
    """Global-average-pools several maps, concatenates, then a linear layer.

        y = W [mean_hw(S_1); ...; mean_hw(S_n)] + b

    The maps (typically every stage's output) may differ in size and channel
    count; their batch sizes must agree. The model builders' `head="bridge"`
    puts it where global average pooling would be.

    Args:
        units: output width; None for the last map's channel count (the
            width global average pooling of the last stage would give).
            Defaults to `None`.
        use_bias: bool, a bias in the linear layer. Defaults to `True`.
        kernel_initializer: initializer of the kernel. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernel.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list of 4-D tensors with known channel counts.

    Output shape:
        `(batch, units)`.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> stages = [np.ones((2, 8, 8, 16)), np.ones((2, 4, 4, 32))]
        >>> layer = keras_chattn.layers.CrossLayerPooling()
        >>> # (16 + 32) * 32 + 32 weights
        >>> tuple(layer(stages).shape), layer.count_params()
        ((2, 32), 1568)
    """

    def __init__(
        self,
        units: int | None = None,
        use_bias: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = (
            None if units is None else validation.positive_int("units", units)
        )
        self.use_bias = validation.boolean("use_bias", use_bias)
        self.kernel_initializer = validation.initializer_instance(
            "kernel_initializer", kernel_initializer
        )
        self.kernel_regularizer = validation.regularizer(
            "kernel_regularizer", kernel_regularizer
        )
        self.data_format = validation.data_format(data_format)

    def _channel_axis(self):
        return layout.channel_axis(self.data_format)

    def _shapes(self, input_shape):
        shapes = input_shape if isinstance(input_shape, (list, tuple)) else []
        if not shapes or not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(
                "CrossLayerPooling takes a non-empty list of 4-D maps (every "
                f"stage's output). Received: input_shape={input_shape!r}"
            )
        for shape in shapes:
            if len(shape) != 4 or shape[self._channel_axis()] is None:
                raise ValueError(
                    "CrossLayerPooling's inputs must be 4-D with a known "
                    f"channel count. Received: input_shape={list(shapes)}"
                )
        batches = sorted({s[0] for s in shapes if s[0] is not None})
        if len(batches) > 1:
            raise ValueError(
                "CrossLayerPooling's inputs are maps of the same images, so "
                f"their batch sizes must agree; they differ: {batches}. "
                f"Received: input_shape={[tuple(s) for s in shapes]}"
            )
        return [tuple(s) for s in shapes]

    def output_units(self, shapes):
        return self.units or shapes[-1][self._channel_axis()]

    def build(self, input_shape):
        shapes = self._shapes(input_shape)
        width = sum(s[self._channel_axis()] for s in shapes)
        self.linear = built_dense(
            self,
            self.output_units(shapes),
            width,
            "linear",
            use_bias=self.use_bias,
        )

    def call(self, inputs):
        axes = layout.spatial_axes(self.data_format)
        pooled = [ops.mean(x, axis=axes) for x in inputs]
        return self.linear(ops.concatenate(pooled, axis=-1))

    def compute_output_shape(self, input_shape):
        shapes = self._shapes(input_shape)
        return (shapes[0][0], self.output_units(shapes))

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
            "data_format": self.data_format,
        }
