"""Concurrent spatial and channel squeeze and excitation (scSE).

Reference: Roy, Navab and Wachinger, "Concurrent Spatial and Channel
'Squeeze & Excitation' in Fully Convolutional Networks", MICCAI 2018
(https://arxiv.org/abs/1803.02579). Checked against
segmentation_models_pytorch's `SCSEModule` (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class ConcurrentSqueezeExcite(AttentionLayer):
    """scSE: a channel SE gate and a spatial gate, added.

    The channel gate (cSE) is SE: global mean, `Dense(C // reduction)`,
    ReLU, `Dense(C)`, sigmoid. The spatial gate (sSE) is a 1x1
    convolution to one channel and a sigmoid, one weight per position. The
    two recalibrated maps are added (the paper's and
    segmentation_models_pytorch's "max-out" alternative is not offered):

        y = x * sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2)
            + x * sigmoid(w . x + b)

    Args:
        reduction: positive int, the channel gate's reduction ratio; its
            bottleneck has `max(1, C // reduction)` units. Defaults to
            `16`.
        kernel_initializer: initializer of the three kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes may be unknown, channels must be known.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`; likewise
        `(batch, length, channels)` and
        `(batch, depth, height, width, channels)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.ConcurrentSqueezeExcite()
        >>> y = layer(np.ones((2, 8, 8, 64), "float32"))
        >>> tuple(y.shape), layer.count_params()  # SE 64-4-64, then 64 + 1
        ((2, 8, 8, 64), 645)

    Reference:
        Roy et al., "Concurrent Spatial and Channel 'Squeeze & Excitation'
        in Fully Convolutional Networks", MICCAI 2018.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 16,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        units = max(1, channels // self.reduction)
        self.squeeze = built_dense(self, units, channels, "squeeze", "relu")
        self.excite = built_dense(self, channels, units, "excite")
        self.spatial = built_dense(self, 1, channels, "spatial")

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        squeezed = ops.mean(inputs, axis=self.spatial_axes)
        channel = ops.sigmoid(self.excite(self.squeeze(squeezed)))
        channel = ops.cast(channel, self.compute_dtype)
        # A 1x1 convolution to one channel is a Dense on the last axis.
        spatial = ops.cast(ops.sigmoid(self.spatial(x)), self.compute_dtype)
        outputs = inputs * self.broadcast_over_space(
            channel
        ) + inputs * self.restore_layout(spatial)
        return outputs, {"channel": channel, "spatial": spatial[..., 0]}

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
