"""Efficient Channel Attention (ECA).

Reference: Wang, Wu, Zhu, Li, Zuo and Hu, "ECA-Net: Efficient Channel
Attention for Deep Convolutional Neural Networks", CVPR 2020
(https://arxiv.org/abs/1910.03151). Public code: BangguWu/ECANet (read, not
copied).
"""

import math
from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


def adaptive_kernel_size(channels, gamma=2, b=1):
    """ECA's k = |(log2(C) + b) / gamma|, made odd (Eq. 12 of the paper).

    t = int(|(log2(C) + b) / gamma|); k = t if t is odd, else t + 1.

    Examples:

        >>> from keras_chattn.layers.eca import adaptive_kernel_size
        >>> [adaptive_kernel_size(c) for c in (64, 256, 512, 1024, 2048)]
        [3, 5, 5, 5, 7]
    """
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


@keras.saving.register_keras_serializable(package="keras_chattn")
class ECA(AttentionLayer):
    """ECA: a 1-D convolution across the channels of the pooled map.

    Global average pooling gives one descriptor per channel; a 1-D
    convolution of size k over the channel axis (no bias, "same" padding:
    each channel's weight depends on its k neighbours, with no
    dimensionality reduction) and a sigmoid give one weight per channel:

        y = x * sigmoid(conv1d_k(mean_hw(x)))

    k is adaptive by default, as in the paper and the authors' ECA module:
    `adaptive_kernel_size(C, gamma, b)` (3 for 64 channels, 5 for 256 to
    1024, 7 for 2048). The authors' ImageNet ResNet-50 was trained with
    fixed per-stage sizes 3, 5, 5, 7 (their `k_size` "3557"), which a
    per-stage attention list reproduces:
    `attention=[functools.partial(ECA, kernel_size=k) for k in (3, 5, 5, 7)]`.

    Args:
        kernel_size: odd positive int, or None for the adaptive size.
            Defaults to `None`.
        gamma: positive number of the adaptive size. Defaults to `2`.
        b: number of the adaptive size. Defaults to `1`.
        gate: activation turning the convolution into weights. Defaults to
            `"sigmoid"`.
        kernel_initializer: initializer of the 1-D kernel. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernel.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes may be unknown.

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
        >>> layer = keras_chattn.layers.ECA()
        >>> y = layer(np.ones((2, 8, 8, 256), "float32"))
        >>> tuple(y.shape), layer.count_params()  # k = 5 for 256 channels
        ((2, 8, 8, 256), 5)

    Reference:
        Wang et al., "ECA-Net: Efficient Channel Attention for Deep
        Convolutional Neural Networks", CVPR 2020.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        kernel_size: int | None = None,
        gamma: float = 2,
        b: int = 1,
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.kernel_size = (
            None
            if kernel_size is None
            else validation.odd_positive_int("kernel_size", kernel_size)
        )
        self.gamma = validation.number_in_range("gamma", gamma, 0.0, None)
        self.b = validation.number_in_range("b", b, -1e9, 1e9)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    def effective_kernel_size(self, channels):
        """`kernel_size`, or the adaptive size for `channels`."""
        if self.kernel_size is not None:
            return self.kernel_size
        return adaptive_kernel_size(channels, self.gamma, self.b)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        self.conv = built_conv(
            self,
            (None, channels, 1),
            1,
            self.effective_kernel_size(channels),
            "conv",
            use_bias=False,
        )

    def channel_weights(self, inputs):
        """The gate's output, shape `(batch, C)`."""
        pooled = ops.mean(inputs, axis=self.spatial_axes)
        logits = self.conv(ops.expand_dims(pooled, -1))
        return self.gate(ops.squeeze(logits, -1))

    def attend(self, inputs, training=None):
        weights = self.channel_weights(inputs)
        return inputs * self.broadcast_over_space(weights), {"channel": weights}

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "gamma": self.gamma,
            "b": self.b,
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
        }
