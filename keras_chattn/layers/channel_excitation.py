"""The channel gate SE-Net and CBAM share: pools -> shared MLP -> gate.

Reference: Hu, Shen, Albanie, Sun and Wu, "Squeeze-and-Excitation
Networks", CVPR 2018 (the excitation); Woo, Park, Lee and Kweon, "CBAM",
ECCV 2018 (several pools through one MLP, summed).
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

POOL_TYPES = ("avg", "max", "lse", "lp")


class ChannelExcitation(AttentionLayer):
    """Base of channel gates: pooled descriptors -> shared MLP -> sum -> gate.

    Subclasses write their own `attend` (SE in `squeeze_excite.py`,
    CBAM's channel half in `channel_attention.py`) from `pool`, `mlp` and
    `channel_weights`.

    The pools run over every spatial axis, so the gate is defined for any
    rank: sequences (3-D), images (4-D) and volumes (5-D).

    Subclasses set `pool_types`, a tuple from `POOL_TYPES` (a constructor
    argument of `ChannelAttention`, fixed to `("avg",)` in `SqueezeExcite`).
    Every pooled `(batch, C)` descriptor goes through the same two Dense
    layers (`reduce`, `expand`); their outputs are summed before the gate.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 16,
        use_bias: bool = True,
        min_units: int = 1,
        activation: ActivationLike = "relu",
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.use_bias = validation.boolean("use_bias", use_bias)
        self.min_units = validation.positive_int(
            "min_units", min_units, validation.MAX_WIDTH
        )
        self.activation = validation.activation("activation", activation)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    def bottleneck_units(self, channels):
        """max(channels // reduction, min_units), refusing an expansion."""
        units = max(channels // self.reduction, self.min_units)
        if units > channels:
            raise ValueError(
                f"{type(self).__name__} would widen, not squeeze: "
                f"min_units={self.min_units} is larger than the input's "
                f"{channels} channels (with reduction={self.reduction}). "
                f"Pass min_units <= {channels}."
            )
        return units

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        units = self.bottleneck_units(channels)
        self.reduce = built_dense(
            self, units, channels, "reduce", self.activation, self.use_bias
        )
        self.expand = built_dense(
            self, channels, units, "expand", use_bias=self.use_bias
        )

    def pool(self, inputs):
        """One `(batch, C)` descriptor per entry of `self.pool_types`."""
        return [self._global_pool(inputs, p) for p in self.pool_types]

    def _global_pool(self, inputs, pool_type):
        axes = self.spatial_axes
        if pool_type == "avg":
            # keras.ops.mean accumulates correctly in float16 (a float16
            # tf.reduce_mean does not, and a float16 sum stops at 2048).
            return ops.mean(inputs, axis=axes)
        if pool_type == "max":
            return ops.max(inputs, axis=axes)
        # Both overflow float16 on ordinary maps: computed in float32 (and
        # kept there for the MLP, see `mlp`).
        wide = ops.cast(inputs, "float32")
        if pool_type == "lse":
            pooled = ops.logsumexp(wide, axis=axes)
        else:  # "lp": the L2 norm over positions
            squares = ops.sum(ops.square(wide), axis=axes)
            # sqrt has an infinite slope at 0: an all-zero channel gets the
            # norm 0 with a zero gradient instead of NaN.
            nonzero = squares > 0
            pooled = ops.where(
                nonzero, ops.sqrt(ops.where(nonzero, squares, 1.0)), 0.0
            )
        return pooled

    def mlp(self, descriptors):
        """`expand(reduce(descriptors))`; under float16 in float32.

        float16 ends at 65504: an lse or lp descriptor of a large map (the
        L2 norm of a 128 x 128 map of 1e3 is 1.28e5), or the MLP's sums of
        large ones, passes it and becomes inf (then NaN in the gradients).
        The MLP acts on pooled vectors only, so float32 costs nothing.
        """
        if self.compute_dtype != "float16":
            return self.expand(
                self.reduce(ops.cast(descriptors, self.compute_dtype))
            )
        hidden = _dense_float32(self.reduce, descriptors)
        return _dense_float32(self.expand, hidden)

    def channel_weights(self, inputs):
        """The gate's output, shape `(batch, C)`, before broadcasting."""
        descriptors = self.pool(inputs)
        if len(descriptors) == 1:
            logits = self.mlp(descriptors[0])
        else:
            # All descriptors through the MLP in one pass, (batch, pools,
            # C), then summed over the pools: the same sum as one pass per
            # pool, and int8 quantisation then gives the hidden units one
            # range over all pools (a unit dead on one pool alone, e.g.
            # after max pooling, otherwise gets a zero range, which XNNPACK
            # refuses).
            stacked = ops.stack(
                [ops.cast(d, "float32") for d in descriptors], axis=1
            )
            logits = ops.sum(self.mlp(stacked), axis=1)
        return ops.cast(self.gate(logits), self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "use_bias": self.use_bias,
            "min_units": self.min_units,
            "activation": keras.activations.serialize(self.activation),
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }


def _dense_float32(dense, x):
    """A built Dense layer applied in float32 (its weights cast up)."""
    y = ops.matmul(ops.cast(x, "float32"), ops.cast(dense.kernel, "float32"))
    if dense.use_bias:
        y = y + ops.cast(dense.bias, "float32")
    return dense.activation(y)
