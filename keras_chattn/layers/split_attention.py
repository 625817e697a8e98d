"""Split attention (ResNeSt's Splat).

Reference: Zhang et al., "ResNeSt: Split-Attention Networks", CVPR
Workshops 2022 (https://arxiv.org/abs/2004.08955). Checked against timm's
`SplitAttn` and its ResNeSt networks (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers import _kernels
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.pooled_batch_norm import PooledBatchNormalization
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


def attention_units(channels, radix, reduction, min_units, divisor=8):
    """timm's `make_divisible(channels * radix / reduction, 8, min 32)`.

    Examples:

        >>> attention_units(64, 2, 4, 32), attention_units(256, 2, 4, 32)
        (32, 128)
    """
    value = channels * radix / reduction
    units = max(min_units, int(value + divisor / 2) // divisor * divisor)
    return units + divisor if units < 0.9 * value else units


@keras.saving.register_keras_serializable(package="keras_chattn")
class SplitAttention(AttentionLayer):
    """A 3x3 convolution whose `radix` splits attend over each other.

    The convolution makes `radix` feature-map groups (a grouped
    convolution of `groups * radix` groups to `radix * filters` channels,
    BatchNorm, ReLU); their sum is pooled and goes through a grouped
    1x1 convolution to `d` units (with bias), BatchNorm, ReLU and a second
    one back to `radix * filters`; an r-Softmax across the splits (a
    sigmoid for `radix=1`) weighs them, and the weighted splits are added:

        U_r = relu(BN(conv_r(x)))
        z = relu(BN(W1 mean_hw(sum_r U_r) + b1))
        y = sum_r softmax_r(W2 z + b2)[r] * U_r

    `d = make_divisible(in_channels * radix / reduction, 8)`, at least
    `min_units` (timm's). The block is a convolution: the model builders
    put it in place of a residual block's 3x3 convolution, BatchNorm and
    ReLU. With `avd=True` (ResNeSt's, timm's `avd`) a stride is taken by a
    3x3 average pooling after the block instead of by the convolution.
    Every stride pads symmetrically, as PyTorch does.

    Args:
        filters: positive int, output channels.
        strides: positive int, the stride. Defaults to `1`.
        radix: positive int, the splits. Defaults to `2`.
        groups: positive int, the cardinality (dividing the input channels
            and `filters`). Defaults to `1`.
        reduction: positive int, the attention's reduction. Defaults to
            `4`.
        min_units: positive int, the least `d`. Defaults to `32`.
        avd: bool, stride by average pooling after the block. Defaults to
            `True`.
        kernel_initializer: initializer of every kernel. Defaults to
            `"he_normal"`.
        kernel_regularizer: optional regularizer of every kernel.
        batchnorm_momentum: Defaults to `0.9` (PyTorch's 0.1).
        batchnorm_epsilon: Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; height and width may be unknown.
        training: bool, BatchNorm mode.

    Input shape:
        `(batch, height, width, in_channels)` or, for `"channels_first"`,
        `(batch, in_channels, height, width)`.

    Output shape:
        `(batch, ceil(height / strides), ceil(width / strides), filters)`.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.SplitAttention(64)
        >>> tuple(layer(np.ones((2, 8, 8, 64), "float32")).shape)
        (2, 8, 8, 64)
        >>> # 9*32*128 + 64*32+32 + 32*128+128, two BatchNorms of 128 and 32
        >>> layer.count_params()  # (4 numbers per channel each)
        43808

    Reference:
        Zhang et al., "ResNeSt: Split-Attention Networks", 2020.
    """

    rank_note = (
        "It replaces a ResNet block's 2-D 3x3 convolution (grouped 2-D "
        "convolutions); 1-D and 3-D versions are not implemented."
    )

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        radix: int = 2,
        groups: int = 1,
        reduction: int = 4,
        min_units: int = 32,
        avd: bool = True,
        kernel_initializer: InitializerLike = "he_normal",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.9,
        batchnorm_epsilon: float = 1e-5,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.filters = validation.positive_int(
            "filters", filters, validation.MAX_WIDTH
        )
        self.strides = validation.positive_int(
            "strides", strides, validation.MAX_SIZE
        )
        self.radix = validation.positive_int(
            "radix", radix, validation.MAX_REPEATS
        )
        self.groups = validation.positive_int(
            "groups", groups, validation.MAX_WIDTH
        )
        self.reduction = validation.positive_int("reduction", reduction)
        self.min_units = validation.positive_int(
            "min_units", min_units, validation.MAX_WIDTH
        )
        self.avd = validation.boolean("avd", avd)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        for name, value, divisor, what in (
            (
                "input channels",
                channels,
                self.groups * self.radix,
                "groups * radix",
            ),
            ("filters", self.filters, self.groups, "groups"),
        ):
            if value % divisor:
                raise ValueError(
                    f"SplitAttention needs {name} divisible by {what} = "
                    f"{divisor}. Received: groups={self.groups}, "
                    f"radix={self.radix}, {name}={value}"
                )
        units = attention_units(
            channels, self.radix, self.reduction, self.min_units
        )
        if units % self.groups:
            raise ValueError(
                f"SplitAttention's attention width {units} must be divisible "
                f"by groups={self.groups}; choose reduction or min_units so "
                f"that it is. Received: reduction={self.reduction}, "
                f"min_units={self.min_units}"
            )
        splits = self.radix * self.filters
        conv_stride = 1 if self.avd else self.strides
        self.conv = built_conv(
            self,
            (None, None, None, channels),
            splits,
            3,
            "conv",
            padding="valid",
            strides=conv_stride,
            groups=self.groups * self.radix,
            use_bias=False,
        )
        self.conv_bn = built_batchnorm(
            self, "conv_bn", (None, None, None, splits)
        )
        self.fc1 = built_conv(
            self, (None, 1, 1, self.filters), units, 1, "fc1",
            padding="valid", groups=self.groups,
        )  # fmt: skip
        self.fc1_bn = built_batchnorm(
            self, "fc1_bn", (None, units), layer_class=PooledBatchNormalization
        )
        self.fc2 = built_conv(
            self, (None, 1, 1, units), splits, 1, "fc2",
            padding="valid", groups=self.groups,
        )  # fmt: skip

    def _pointwise(self, conv, vector):
        """A grouped 1x1 convolution with bias on `(batch, C)` vectors."""
        return _kernels.grouped_conv2d(conv, vector[:, None, None, :])[:, 0, 0]

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        padded = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
        splits = _kernels.grouped_conv2d(self.conv, padded)
        splits = ops.relu(self.conv_bn(splits, training=training))
        shape = ops.shape(splits)
        splits = ops.reshape(
            splits, (shape[0], shape[1], shape[2], self.radix, self.filters)
        )
        pooled = ops.mean(ops.sum(splits, axis=3), axis=(1, 2))
        z = ops.relu(
            self.fc1_bn(self._pointwise(self.fc1, pooled), training=training)
        )
        logits = ops.cast(self._pointwise(self.fc2, z), "float32")
        if self.radix > 1:
            # timm's RadixSoftmax: (groups, radix, width) per sample.
            logits = ops.reshape(
                logits,
                (-1, self.groups, self.radix, self.filters // self.groups),
            )
            weights = ops.softmax(ops.transpose(logits, (0, 2, 1, 3)), axis=1)
        else:
            weights = ops.sigmoid(logits)
        weights = ops.reshape(weights, (-1, self.radix, self.filters))
        weights = ops.cast(weights, self.compute_dtype)
        y = ops.sum(splits * weights[:, None, None], axis=3)
        if self.avd and self.strides > 1:
            # AvgPool2d(3, stride, padding=1), padding counted (PyTorch's).
            y = ops.average_pool(
                ops.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]]),
                3,
                self.strides,
                padding="valid",
                data_format="channels_last",
            )
        return self.restore_layout(y), {"selection": weights}

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = self.channels_last_shape(input_shape)
        height, width = (
            None if size is None else -(-size // self.strides)
            for size in (height, width)
        )
        shape = (batch, height, width, self.filters)
        if self.data_format == "channels_first":
            return (batch, self.filters, height, width)
        return shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "radix": self.radix,
            "groups": self.groups,
            "reduction": self.reduction,
            "min_units": self.min_units,
            "avd": self.avd,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
