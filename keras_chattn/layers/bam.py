"""Bottleneck attention module (BAM).

Reference: Park, Woo, Lee and Kweon, "BAM: Bottleneck Attention Module",
BMVC 2018 (https://arxiv.org/abs/1807.06514). Public code:
Jongchan/attention-module, `MODELS/bam.py` (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.pooled_batch_norm import PooledBatchNormalization
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

COMBINATIONS = ("multiply", "add")


@keras.saving.register_keras_serializable(package="keras_chattn")
class BAM(AttentionLayer):
    """BAM: a channel and a spatial branch, combined into one 3-D gate.

        M_c = W_1 ReLU(BN(W_0 mean_hw(x)))                    (C -> C/r -> C)
        M_s = conv_1x1(ReLU(BN(conv_3x3,d(... ReLU(BN(conv_1x1(x)))))))
              (C -> C/r, two 3x3 convolutions dilated by d, C/r -> 1)
        M = sigmoid(M_c * M_s)          (`combine="multiply"`, the code)
        M = sigmoid(M_c + M_s)          (`combine="add"`, the paper, Eq. 2)
        y = x * (1 + M)

    The paper sums the two branches; the authors' code, which produced its
    published numbers, multiplies them, and that is the default. Every
    convolution and Dense layer has a bias, the BatchNorms follow PyTorch's
    defaults (Keras momentum 0.9, epsilon 1e-5), as in that code (the
    biases right before a BatchNorm never learn: it subtracts them). Placed
    once between stages (at each stage's output but the last), not in every
    block: the model builders do so.

    Args:
        reduction: positive int, r. Defaults to `16`.
        dilation: positive int, d of the 3x3 convolutions. Defaults to `4`.
        dilated_convs: positive int, how many. Defaults to `2`.
        combine: `"multiply"` or `"add"`. Defaults to `"multiply"`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of every kernel.
        batchnorm_momentum: Defaults to `0.9`.
        batchnorm_epsilon: Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (on a sequence or a volume the
            dilated convolutions are 1-D or 3-D, of size 3 per axis);
            spatial sizes may be unknown.
        training: bool, BatchNorm mode.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.BAM()
        >>> y = layer(np.ones((2, 8, 8, 64), "float32"))
        >>> tuple(y.shape)  # C/r = 4
        (2, 8, 8, 64)
        >>> layer.count_params()  # 588 channel + 585 spatial + 32 BN statistics
        1205

    Reference:
        Park et al., "BAM: Bottleneck Attention Module", BMVC 2018.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 16,
        dilation: int = 4,
        dilated_convs: int = 2,
        combine: str = "multiply",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.9,
        batchnorm_epsilon: float = 1e-5,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.dilation = validation.positive_int(
            "dilation", dilation, validation.MAX_SIZE
        )
        self.dilated_convs = validation.positive_int(
            "dilated_convs", dilated_convs, validation.MAX_REPEATS
        )
        self.combine = validation.choice(
            "combine", combine, COMBINATIONS, ordered=True
        )
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def bottleneck(self, channels):
        return max(1, channels // self.reduction)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        units = self.bottleneck(channels)
        self.channel_reduce = built_dense(self, units, channels, "channel_fc")
        self.channel_bn = built_batchnorm(
            self,
            "channel_bn",
            (None, units),
            layer_class=PooledBatchNormalization,
        )
        self.channel_expand = built_dense(self, channels, units, "channel_out")
        spatial = (None,) * (len(input_shape) - 2)
        map_shape = (None, *spatial, units)
        self.spatial_reduce = built_dense(
            self, units, (*spatial, channels), "spatial_reduce"
        )
        self.spatial_bns = [built_batchnorm(self, "spatial_bn0", map_shape)]
        self.spatial_convs = []
        for index in range(self.dilated_convs):
            conv = built_conv(
                self,
                map_shape,
                units,
                3,
                f"spatial_dilated{index}",
                dilation_rate=self.dilation,
            )
            self.spatial_convs.append(conv)
            self.spatial_bns.append(
                built_batchnorm(self, f"spatial_bn{index + 1}", map_shape)
            )
        self.spatial_out = built_dense(
            self, 1, (*spatial, units), "spatial_out"
        )

    def channel_attention(self, x, training):
        """M_c, shape `(batch, 1, 1, C)` (one 1 per spatial axis), of a
        channels_last map."""
        spatial = tuple(range(1, len(x.shape) - 1))
        pooled = ops.mean(x, axis=spatial)
        hidden = self.channel_bn(self.channel_reduce(pooled), training=training)
        logits = self.channel_expand(ops.relu(hidden))
        for axis in spatial:
            logits = ops.expand_dims(logits, axis)
        return logits

    def spatial_attention(self, x, training):
        """M_s, shape `(batch, H, W, 1)`, of a channels_last map."""
        y = self.spatial_reduce(x)
        y = ops.relu(self.spatial_bns[0](y, training=training))
        for conv, norm in zip(
            self.spatial_convs, self.spatial_bns[1:], strict=True
        ):
            y = ops.relu(norm(conv(y), training=training))
        return self.spatial_out(y)

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        channel = self.channel_attention(x, training)
        spatial = self.spatial_attention(x, training)
        joint = (
            channel * spatial
            if self.combine == "multiply"
            else (channel + spatial)
        )
        attention = ops.sigmoid(joint)
        maps = {
            "channel": ops.squeeze(channel, tuple(range(1, len(x.shape) - 1))),
            "spatial": ops.squeeze(spatial, -1),
            "attention": attention,
        }
        return self.restore_layout(x * (1.0 + attention)), maps

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "dilation": self.dilation,
            "dilated_convs": self.dilated_convs,
            "combine": self.combine,
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
