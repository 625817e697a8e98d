"""Effective Squeeze-Excitation (eSE).

Reference: Lee and Park, "CenterMask: Real-Time Anchor-Free Instance
Segmentation", CVPR 2020 (https://arxiv.org/abs/1911.06667). Checked
against timm's `EffectiveSEModule` (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class EffectiveSqueezeExcite(AttentionLayer):
    """eSE: SE with one full-width layer and a hard sigmoid.

    SE's two-layer bottleneck loses information when it reduces the
    channels; eSE keeps them all with one `C -> C` layer (a 1x1
    convolution on the pooled vector):

        y = x * hard_sigmoid(W mean_hw(x) + b)

    `hard_sigmoid(z) = relu6(z + 3) / 6`, PyTorch's and timm's. With
    `add_maxpool=True` the descriptor is `0.5 * mean + 0.5 * max` (timm's
    option).

    Args:
        add_maxpool: bool, average the mean and max descriptors. Defaults
            to `False`.
        gate: activation turning the logits into channel weights. Defaults
            to `"hard_sigmoid"`.
        kernel_initializer: initializer of the layer's kernel. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernel.
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
        >>> layer = keras_chattn.layers.EffectiveSqueezeExcite()
        >>> y = layer(np.ones((2, 8, 8, 64), "float32"))
        >>> tuple(y.shape), layer.count_params()  # 64 * 64 + 64
        ((2, 8, 8, 64), 4160)

    Reference:
        Lee and Park, "CenterMask: Real-Time Anchor-Free Instance
        Segmentation", CVPR 2020.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        add_maxpool: bool = False,
        gate: ActivationLike = "hard_sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.add_maxpool = validation.boolean("add_maxpool", add_maxpool)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        self.fc = built_dense(self, channels, channels, "fc")

    def attend(self, inputs, training=None):
        squeezed = ops.mean(inputs, axis=self.spatial_axes)
        if self.add_maxpool:
            squeezed = 0.5 * squeezed + 0.5 * ops.max(
                inputs, axis=self.spatial_axes
            )
        weights = ops.cast(self.gate(self.fc(squeezed)), self.compute_dtype)
        outputs = inputs * self.broadcast_over_space(weights)
        return outputs, {"channel": weights}

    def get_config(self):
        return {
            **super().get_config(),
            "add_maxpool": self.add_maxpool,
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
