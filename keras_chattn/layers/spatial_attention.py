"""CBAM's spatial attention module.

Reference: Woo, Park, Lee and Kweon, "CBAM: Convolutional Block Attention
Module", ECCV 2018 (https://arxiv.org/abs/1807.06521), Eq. 3.
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers import _kernels
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.utils import layout
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class SpatialAttention(AttentionLayer):
    """Spatial attention of CBAM: one weight per position from a 2-map conv.

    The channel-wise maximum and mean of the input are stacked into a 2-channel
    map (maximum first, as the official code's `ChannelPool`), convolved by a
    `kernel_size x kernel_size` convolution with "same" padding and no bias to
    one map, batch-normalised, passed through `gate` and multiplied into every
    channel:

        M_s(F) = sigmoid(BN(conv([MaxPool_c(F); AvgPool_c(F)])))
        y = M_s(F) * F

    On a sequence `(batch, length, channels)` the convolution is a
    `kernel_size` Conv1D, on a volume `(batch, depth, height, width,
    channels)` a `kernel_size`^3 Conv3D: one weight per position either way.

    On an image at most 32 wide (width known when the step is traced) on
    TensorFlow and JAX, the 2-map convolution runs as banded matrix
    products over the rows (`keras_chattn.layers._kernels.spatial_conv`):
    the same sum from the same Conv2D kernel, faster there than the direct
    convolution of 2 channels.

    The BatchNorm follows the official code (`BasicConv(..., bn=True)`, PyTorch
    epsilon 1e-5, momentum 0.01 which is Keras momentum 0.99) and its gamma
    starts at 0, as the official ResNet initialisation sets it: a fresh layer
    multiplies every position by sigmoid(0) = 0.5, and learns to depart from
    that.

    Args:
        kernel_size: odd positive int, size of the square convolution.
            Defaults to `7`.
        use_batchnorm: bool, BatchNorm after the convolution. Defaults to
            `True`.
        gate: activation turning the map into weights. Defaults to
            `"sigmoid"`.
        kernel_initializer: initializer of the convolution kernel. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the convolution kernel.
        batchnorm_momentum: momentum of the BatchNorm moving statistics.
            Defaults to `0.99`.
        batchnorm_epsilon: BatchNorm epsilon. Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor; the spatial sizes and the channel
            count may all be unknown (the layer's weights do not depend on
            them).
        training: bool, BatchNorm mode. Defaults to the Keras learning phase.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`; also `(batch, length, channels)`
        and `(batch, depth, height, width, channels)` (channels first:
        channels on axis 1).

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> sequence = np.ones((2, 50, 8), "float32")
        >>> tuple(keras_chattn.layers.SpatialAttention()(sequence).shape)
        (2, 50, 8)
        >>> layer = keras_chattn.layers.SpatialAttention(kernel_size=7)
        >>> y = layer(np.ones((2, 16, 16, 64), "float32"))
        >>> tuple(y.shape)
        (2, 16, 16, 64)
        >>> [tuple(w.shape) for w in layer.trainable_weights]
        [(7, 7, 2, 1), (1,), (1,)]

    Reference:
        Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        kernel_size: int = 7,
        use_batchnorm: bool = True,
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.99,
        batchnorm_epsilon: float = 1e-5,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.kernel_size = validation.odd_positive_int(
            "kernel_size", kernel_size
        )
        self.use_batchnorm = validation.boolean("use_batchnorm", use_batchnorm)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def build(self, input_shape):
        input_shape = self.fix_rank(input_shape)
        # The conv always runs channels_last on the 2-channel descriptor:
        # TensorFlow has no channels_first Conv2D on CPUs without oneDNN
        # (e.g. AVX2-only machines), and the kernel is the same either way.
        self.conv = built_conv(
            self,
            (input_shape[0], *self.spatial_extent(input_shape), 2),
            1,
            self.kernel_size,
            "conv",
            use_bias=False,
        )
        if self.use_batchnorm:
            self.batchnorm = built_batchnorm(
                self,
                "batchnorm",
                self.with_channels(input_shape, 1),
                axis=self.channel_axis,
                gamma_initializer="zeros",
            )

    def attend(self, inputs, training=None):
        axis = self.channel_axis
        descriptor = ops.concatenate(
            [
                ops.max(inputs, axis=axis, keepdims=True),
                ops.mean(inputs, axis=axis, keepdims=True),
            ],
            axis=axis,
        )
        if self.data_format == "channels_first":
            ndim = len(inputs.shape)
            descriptor = ops.transpose(
                descriptor, layout.to_channels_last_axes(ndim)
            )
            logits = ops.transpose(
                self.convolve(descriptor), layout.to_channels_first_axes(ndim)
            )
        else:
            logits = self.convolve(descriptor)
        if self.use_batchnorm:
            logits = self.batchnorm(logits, training=training)
        gate = self.gate(logits)
        return inputs * gate, {"spatial": ops.squeeze(gate, self.channel_axis)}

    def convolve(self, descriptor):
        """The convolution of the channels_last descriptor (banded matrix
        products on narrow images: `_kernels.spatial_conv`)."""
        return _kernels.spatial_conv(self.conv, descriptor)

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "use_batchnorm": self.use_batchnorm,
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
