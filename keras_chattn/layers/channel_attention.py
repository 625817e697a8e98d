"""CBAM's channel attention module.

Reference: Woo, Park, Lee and Kweon, "CBAM: Convolutional Block Attention
Module", ECCV 2018 (https://arxiv.org/abs/1807.06521), Eq. 2.
"""

from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.layers.channel_excitation import POOL_TYPES
from keras_chattn.layers.channel_excitation import ChannelExcitation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


def check_pool_types(pool_types):
    """`pool_types` as a tuple of distinct names from POOL_TYPES, or raises."""
    if isinstance(pool_types, str) or not isinstance(pool_types, (list, tuple)):
        raise ValueError(
            "pool_types must be a non-empty list or tuple of pool names from "
            f"{list(POOL_TYPES)}. Received: pool_types={pool_types!r}"
        )
    unknown = [p for p in pool_types if p not in POOL_TYPES]
    if not pool_types or unknown:
        raise ValueError(
            f"pool_types must be a non-empty list of names from "
            f"{list(POOL_TYPES)}. Received: pool_types={pool_types!r}"
        )
    if len(set(pool_types)) != len(pool_types):
        raise ValueError(
            "pool_types must not repeat a pool (it would count that "
            f"descriptor twice). Received: pool_types={pool_types!r}"
        )
    return tuple(pool_types)


@keras.saving.register_keras_serializable(package="keras_chattn")
class ChannelAttention(ChannelExcitation):
    """Channel attention of CBAM: several global pools, one shared MLP.

    Each global pool over height and width gives a `(batch, C)` descriptor.
    Every descriptor goes through the SAME bottleneck MLP
    `Dense(C // reduction)` -> `activation` -> `Dense(C)`; the MLP outputs are
    summed, passed through `gate` and multiply the input:

        M_c(F) = sigmoid(MLP(AvgPool(F)) + MLP(MaxPool(F)))
        y = M_c(F) * F

    With biases (the official code's `nn.Linear`) the second bias enters the
    sum once per pool, exactly as in the reference implementation.

    Pools: `"avg"` (mean), `"max"`, `"lse"` (log-sum-exp, a smooth maximum)
    and `"lp"` (L2 norm over positions), the options of the official code.
    `"lse"` and `"lp"` are computed in float32, because in float16 they
    overflow on ordinary maps (the lp pool of a 128x128 map passes 65504,
    float16's largest value, once the map's RMS passes 512); under
    `mixed_float16` the shared MLP on the pooled vectors runs in float32
    too, so that its sums of large descriptors cannot overflow either. An
    all-zero channel has an lp pool of 0 with a zero gradient (not the NaN
    of sqrt's slope at 0).

    Args:
        reduction: positive int, reduction ratio of the shared MLP. Defaults
            to `16`.
        pool_types: non-empty list of pool names from
            `("avg", "max", "lse", "lp")`. Defaults to `("avg", "max")`.
        use_bias: bool, biases in the shared MLP. Defaults to `True`.
        min_units: positive int, lower bound on the hidden width (at most C).
            Defaults to `1`.
        activation: hidden activation of the MLP. Defaults to `"relu"`.
        gate: activation applied to the summed logits. Defaults to
            `"sigmoid"`.
        kernel_initializer: initializer of the MLP kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the MLP kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume) with a known channel count.

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
        >>> layer = keras_chattn.layers.ChannelAttention(reduction=16)
        >>> y = layer(np.random.rand(2, 7, 7, 256).astype("float32"))
        >>> tuple(y.shape), layer.count_params()
        ((2, 7, 7, 256), 8464)

    Reference:
        Woo et al., "CBAM: Convolutional Block Attention Module", ECCV 2018.
    """

    def __init__(
        self,
        reduction: int = 16,
        pool_types: Sequence[str] = ("avg", "max"),
        use_bias: bool = True,
        min_units: int = 1,
        activation: ActivationLike = "relu",
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            reduction=reduction,
            use_bias=use_bias,
            min_units=min_units,
            activation=activation,
            gate=gate,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            data_format=data_format,
            **kwargs,
        )
        self.pool_types = check_pool_types(pool_types)

    def attend(self, inputs, training=None):
        # Every pool's descriptor through the shared MLP, summed, gated;
        # the map scaled by its channel gates.
        weights = self.channel_weights(inputs)
        outputs = inputs * self.broadcast_over_space(weights)
        return outputs, {"channel": weights}

    def get_config(self):
        return {**super().get_config(), "pool_types": list(self.pool_types)}
