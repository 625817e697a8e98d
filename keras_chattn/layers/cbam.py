"""Convolutional Block Attention Module (CBAM).

Reference: Woo, Park, Lee and Kweon, "CBAM: Convolutional Block Attention
Module", ECCV 2018 (https://arxiv.org/abs/1807.06521); official code:
Jongchan/attention-module (`MODELS/cbam.py`).
"""

from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.channel_attention import ChannelAttention
from keras_chattn.layers.spatial_attention import SpatialAttention
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class CBAM(AttentionLayer):
    """CBAM: channel attention, then spatial attention, on one feature map.

        F'  = M_c(F) * F       (`ChannelAttention`: pools -> shared MLP)
        F'' = M_s(F') * F'     (`SpatialAttention`: [max; mean] -> conv -> BN)

    The two halves are sublayers named `channel_attention` and
    `spatial_attention` (created at build, as every composite block here
    creates its sublayers), so their weights can be inspected or frozen
    separately. Placed in a residual block, CBAM goes on the residual branch
    after the last BatchNorm and before the addition (Fig. 3 of the paper).

    Args:
        reduction: positive int, reduction ratio of the shared channel MLP.
            Defaults to `16`.
        spatial_kernel_size: odd positive int, size of the spatial
            convolution. Defaults to `7`.
        pool_types: pools of the channel half, from
            `("avg", "max", "lse", "lp")`. Defaults to `("avg", "max")`.
        use_spatial: bool; `False` keeps only the channel half (the official
            code's `no_spatial=True`). Defaults to `True`.
        use_bias: bool, biases in the channel MLP. Defaults to `True`.
        min_units: positive int, lower bound on the MLP hidden width.
            Defaults to `1`.
        activation: hidden activation of the channel MLP. Defaults to
            `"relu"`.
        gate: activation of both attention maps. Defaults to `"sigmoid"`.
        use_batchnorm: bool, BatchNorm in the spatial half. Defaults to
            `True`.
        kernel_initializer: initializer of every kernel. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of every kernel.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor with a known channel count (the
            spatial half's convolution is then `spatial_kernel_size`,
            `spatial_kernel_size`^2 or `spatial_kernel_size`^3: CBAM-1D and
            CBAM-3D); spatial sizes may be unknown.
        training: bool, mode of the spatial BatchNorm.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import keras
        >>> import keras_chattn
        >>> model = keras.Sequential(
        ...     [
        ...         keras.Input((32, 32, 3)),
        ...         keras.layers.Conv2D(256, 3, padding="same"),
        ...         keras_chattn.layers.CBAM(reduction=16),
        ...     ]
        ... )
        >>> cbam = model.layers[-1]
        >>> cbam.channel_attention.count_params()
        8464
        >>> len(cbam.trainable_weights), cbam.count_params()
        (7, 8566)

    Reference:
        Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 16,
        spatial_kernel_size: int = 7,
        pool_types: Sequence[str] = ("avg", "max"),
        use_spatial: bool = True,
        use_bias: bool = True,
        min_units: int = 1,
        activation: ActivationLike = "relu",
        gate: ActivationLike = "sigmoid",
        use_batchnorm: bool = True,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.spatial_kernel_size = validation.odd_positive_int(
            "spatial_kernel_size", spatial_kernel_size
        )
        self.use_spatial = validation.boolean("use_spatial", use_spatial)
        self.use_batchnorm = validation.boolean("use_batchnorm", use_batchnorm)
        # The halves check the arguments they share with CBAM.
        self.channel_attention = ChannelAttention(
            reduction=reduction,
            pool_types=pool_types,
            use_bias=use_bias,
            min_units=min_units,
            activation=activation,
            gate=gate,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            data_format=self.data_format,
            dtype=self.dtype_policy,
            name="channel_attention",
        )
        self.spatial_attention = None
        if self.use_spatial:
            self.spatial_attention = SpatialAttention(
                kernel_size=self.spatial_kernel_size,
                use_batchnorm=self.use_batchnorm,
                gate=gate,
                kernel_initializer=kernel_initializer,
                kernel_regularizer=kernel_regularizer,
                data_format=self.data_format,
                dtype=self.dtype_policy,
                name="spatial_attention",
            )
        channel = self.channel_attention
        self.reduction = channel.reduction
        self.pool_types = channel.pool_types
        self.use_bias = channel.use_bias
        self.min_units = channel.min_units
        self.activation = channel.activation
        self.gate = channel.gate
        self.kernel_initializer = channel.kernel_initializer
        self.kernel_regularizer = channel.kernel_regularizer

    def build(self, input_shape):
        self.input_channels(input_shape)
        self.channel_attention.build(input_shape)
        if self.use_spatial:
            self.spatial_attention.build(input_shape)

    def attend(self, inputs, training=None):
        outputs, maps = self.channel_attention(inputs, return_attention=True)
        if self.use_spatial:
            outputs, spatial = self.spatial_attention(
                outputs, training=training, return_attention=True
            )
            maps = {**maps, **spatial}
        return outputs, maps

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "spatial_kernel_size": self.spatial_kernel_size,
            "pool_types": list(self.pool_types),
            "use_spatial": self.use_spatial,
            "use_bias": self.use_bias,
            "min_units": self.min_units,
            "activation": keras.activations.serialize(self.activation),
            "gate": keras.activations.serialize(self.gate),
            "use_batchnorm": self.use_batchnorm,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
