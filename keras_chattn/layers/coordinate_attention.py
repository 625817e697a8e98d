"""Coordinate attention.

Reference: Hou, Zhou and Feng, "Coordinate Attention for Efficient Mobile
Network Design", CVPR 2021 (https://arxiv.org/abs/2103.02907). Public code:
houqb/CoordAttention (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class CoordinateAttention(AttentionLayer):
    """Coordinate attention: one gate per row and one per column, per channel.

    The map is average-pooled along its width (one `(H, C)` descriptor) and
    along its height (one `(W, C)` descriptor); the two are concatenated
    along the position axis, go through a shared 1x1 convolution to
    `mip = max(min_units, C // reduction)` channels, BatchNorm and h-swish,
    are split back, and each goes through its own 1x1 convolution back to C
    channels and a sigmoid:

        f = h_swish(BN(conv1([mean_w(x); mean_h(x)])))
        a_h = sigmoid(conv_h(f_h)),  a_w = sigmoid(conv_w(f_w))
        y[h, w, c] = x[h, w, c] * a_h[h, c] * a_w[w, c]

    The 1x1 convolutions have biases, the BatchNorm follows PyTorch's
    defaults (Keras momentum 0.9, epsilon 1e-5), as in the authors' code
    (whose shared convolution's bias gets no gradient: the BatchNorm right
    after it subtracts it; it is kept for their parameter count).

    Args:
        reduction: positive int, r of `mip`. Defaults to `32`.
        min_units: positive int, the least `mip`. Defaults to `8`.
        activation: activation after the BatchNorm. Defaults to
            `"hard_swish"` (x * relu6(x + 3) / 6).
        gate: activation of the two gates. Defaults to `"sigmoid"`.
        kernel_initializer: initializer of the three kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        batchnorm_momentum: Defaults to `0.9`.
        batchnorm_epsilon: Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; height and width may be unknown.
        training: bool, BatchNorm mode.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.CoordinateAttention()
        >>> y = layer(np.ones((2, 8, 8, 256), "float32"))
        >>> tuple(y.shape)  # mip = 256 // 32 = 8
        (2, 8, 8, 256)
        >>> layer.count_params()  # 256*8+8 + 16 (BN) + 2*(8*256+256) + 16 stats
        6696

    Reference:
        Hou et al., "Coordinate Attention for Efficient Mobile Network
        Design", CVPR 2021.
    """

    rank_note = (
        "It pools along the height and along the width separately (one "
        "gate per axis, the paper's coordinate embedding), defined for "
        "images only; for sequences or volumes use SqueezeExcite, ECA or "
        "CBAM, which take any rank."
    )

    def __init__(
        self,
        reduction: int = 32,
        min_units: int = 8,
        activation: ActivationLike = "hard_swish",
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.9,
        batchnorm_epsilon: float = 1e-5,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.min_units = validation.positive_int(
            "min_units", min_units, validation.MAX_WIDTH
        )
        self.activation = validation.activation("activation", activation)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def mip(self, channels):
        """Width of the shared transform: max(min_units, C // reduction)."""
        return max(self.min_units, channels // self.reduction)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        mip = self.mip(channels)
        self.conv1 = built_dense(self, mip, (None, channels), "conv1")
        self.batchnorm = built_batchnorm(self, "batchnorm", (None, None, mip))
        self.conv_h = built_dense(self, channels, (None, mip), "conv_h")
        self.conv_w = built_dense(self, channels, (None, mip), "conv_w")

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        height = ops.shape(x)[1]
        along_height = ops.mean(x, axis=2)  # (batch, H, C)
        along_width = ops.mean(x, axis=1)  # (batch, W, C)
        joint = ops.concatenate([along_height, along_width], axis=1)
        joint = self.batchnorm(self.conv1(joint), training=training)
        joint = self.activation(joint)
        gate_h = self.gate(self.conv_h(joint[:, :height]))
        gate_w = self.gate(self.conv_w(joint[:, height:]))
        y = x * ops.expand_dims(gate_h, 2) * ops.expand_dims(gate_w, 1)
        return self.restore_layout(y), {"height": gate_h, "width": gate_w}

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "min_units": self.min_units,
            "activation": keras.activations.serialize(self.activation),
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
