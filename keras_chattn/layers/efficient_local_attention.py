"""Efficient Local Attention (ELA).

Reference: Xu and Wan, "ELA: Efficient Local Attention for Deep
Convolutional Neural Networks", 2024 (https://arxiv.org/abs/2403.01123).
Checked against the authors' `ELA` module and timm's `EfficientLocalAttn`
(read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers._kernels.grouped_conv import grouped_conv2d
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class EfficientLocalAttention(AttentionLayer):
    """ELA: strip pooling, a 1-D convolution and GroupNorm per axis.

    Like coordinate attention it pools each row and each column, but keeps
    every channel: a 1-D convolution along the strip (grouped, depthwise by
    default), GroupNorm and a sigmoid give a gate per row and per column:

        g_h = sigmoid(act(GN(conv(mean_w(x)))))      (batch, H, C)
        g_w = sigmoid(act(GN(conv(mean_h(x)))))      (batch, W, C)
        y = x * g_h * g_w

    The authors share one convolution and one GroupNorm between the two
    axes and have no `act` (`shared=True`, `activation=None`: their ELA-B
    is `kernel_size=7`, `conv_groups=None`, `norm_groups=16`; ELA-T 5 /
    None / 32; ELA-S 5 / C//8 / 16; ELA-L 7 / C//8 / 16). timm's
    `EfficientLocalAttn` has one of each per axis, one-group norms and a
    SiLU: `shared=False`, `norm_groups=1`, `activation="silu"`.

    Args:
        kernel_size: odd positive int, the 1-D kernel size. Defaults to
            `7`.
        conv_groups: positive int dividing the channels, the convolution's
            groups; `None` for one per channel (depthwise). Defaults to
            `None`.
        norm_groups: positive int dividing the channels, GroupNorm's
            groups. Defaults to `16`.
        shared: bool, one convolution and GroupNorm for both axes.
            Defaults to `True`.
        activation: activation between GroupNorm and the gate; `None` for
            none (linear). Defaults to `None`.
        use_bias: bool, whether the convolutions have biases. Defaults to
            `False`.
        epsilon: positive number, GroupNorm's epsilon. Defaults to `1e-5`
            (PyTorch's).
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; spatial sizes may be unknown, channels must
            be known.
        training: unused (GroupNorm has no moving statistics).

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.EfficientLocalAttention()
        >>> y = layer(np.ones((2, 8, 8, 64), "float32"))
        >>> tuple(y.shape), layer.count_params()  # 64 * 7 + GN 2 * 64
        ((2, 8, 8, 64), 576)

    Reference:
        Xu and Wan, "ELA: Efficient Local Attention for Deep Convolutional
        Neural Networks", 2024.
    """

    rank_note = (
        "It pools along the height and along the width separately (one "
        "gate per axis), defined for images only; for sequences or volumes "
        "use SqueezeExcite, ECA or CBAM, which take any rank."
    )

    def __init__(
        self,
        kernel_size: int = 7,
        conv_groups: int | None = None,
        norm_groups: int = 16,
        shared: bool = True,
        activation: ActivationLike = None,
        use_bias: bool = False,
        epsilon: float = 1e-5,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.kernel_size = validation.odd_positive_int(
            "kernel_size", kernel_size
        )
        self.conv_groups = validation.optional_positive_int(
            "conv_groups", conv_groups
        )
        self.norm_groups = validation.positive_int("norm_groups", norm_groups)
        self.shared = validation.boolean("shared", shared)
        self.activation = validation.activation("activation", activation)
        self.use_bias = validation.boolean("use_bias", use_bias)
        self.epsilon = validation.number_in_range("epsilon", epsilon, 0.0, None)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        groups = self.conv_groups or channels
        for name, value in (
            ("conv_groups", groups),
            ("norm_groups", self.norm_groups),
        ):
            if channels % value:
                raise ValueError(
                    f"EfficientLocalAttention needs {name} to divide the "
                    f"{channels} input channels. Received: {name}={value}, "
                    f"input_shape={tuple(input_shape)}"
                )
        axes = ("",) if self.shared else ("_h", "_w")
        for axis in axes:
            conv = built_conv(
                self,
                (None, None, 1, channels),
                channels,
                (self.kernel_size, 1),
                f"conv{axis}",
                padding="valid",
                groups=groups,
                use_bias=self.use_bias,
            )
            norm = keras.layers.GroupNormalization(
                self.norm_groups,
                epsilon=self.epsilon,
                dtype=self.dtype_policy,
                name=f"norm{axis}",
            )
            norm.build((None, None, 1, channels))
            setattr(self, f"conv{axis}", conv)
            setattr(self, f"norm{axis}", norm)

    def strip_gate(self, strip, axis):
        """`(batch, L, C)` strip means -> their gate, `(batch, L, C)`."""
        conv = getattr(self, f"conv{axis}")
        half = self.kernel_size // 2
        x = ops.pad(
            ops.expand_dims(strip, 2), [[0, 0], [half, half], [0, 0], [0, 0]]
        )
        x = grouped_conv2d(conv, x)
        x = getattr(self, f"norm{axis}")(x)
        return ops.sigmoid(self.activation(x))[:, :, 0, :]

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        axis_h, axis_w = ("", "") if self.shared else ("_h", "_w")
        gate_h = self.strip_gate(ops.mean(x, axis=2), axis_h)
        gate_w = self.strip_gate(ops.mean(x, axis=1), axis_w)
        y = x * ops.expand_dims(gate_h, 2) * ops.expand_dims(gate_w, 1)
        return self.restore_layout(y), {"height": gate_h, "width": gate_w}

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "conv_groups": self.conv_groups,
            "norm_groups": self.norm_groups,
            "shared": self.shared,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "epsilon": self.epsilon,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
