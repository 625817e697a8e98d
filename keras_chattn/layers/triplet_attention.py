"""Triplet attention.

Reference: Misra, Nalamada, Arasanipalai and Hou, "Rotate to Attend:
Convolutional Triplet Attention Module", WACV 2021
(https://arxiv.org/abs/2010.03045). Public code:
landskape-ai/triplet-attention (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

# (branch, axes of the plane it attends over, in (batch, H, W, C) order)
BRANCHES = (
    ("channel_width", (3, 2)),  # pools over the height: a (C, W) plane
    ("height_channel", (1, 3)),  # pools over the width: an (H, C) plane
    ("height_width", (1, 2)),  # pools over the channels: CBAM's (H, W)
)


@keras.saving.register_keras_serializable(package="keras_chattn")
class TripletAttention(AttentionLayer):
    """Triplet attention: three gates, one per pair of the map's axes.

    Each branch Z-pools the map over one axis (its maximum and its mean,
    stacked as 2 channels), convolves the resulting 2-D plane of the other
    two axes with a `k x k` convolution to one map ("same" padding, no
    bias), batch-normalises it and turns it into a gate with a sigmoid:

        a_cw = sigmoid(BN(conv([max_h; mean_h](x))))    on the (C, W) plane
        a_hc = sigmoid(BN(conv([max_w; mean_w](x))))    on the (H, C) plane
        a_hw = sigmoid(BN(conv([max_c; mean_c](x))))    on the (H, W) plane
        y = (x * a_cw + x * a_hc + x * a_hw) / 3

    (the authors' code rotates the tensor so that each plane is an image
    and back; here each plane is pooled and gated in place, which is the
    same). `no_spatial=True` drops the (H, W) branch, as the authors' code
    can. BatchNorm follows their code (PyTorch momentum 0.01, i.e. Keras
    0.99, epsilon 1e-5); their ResNet initialisation starts the (H, W)
    branch's BatchNorm scale at 0 (a gate of 0.5 everywhere, as in CBAM)
    and the two others at 1, and so does this layer. No weight depends on
    the map's size: 3 * (2 k^2 + 2) trainable weights (300 for k = 7).

    Args:
        kernel_size: odd positive int. Defaults to `7`.
        no_spatial: bool, drop the (H, W) branch. Defaults to `False`.
        gate: activation of the gates. Defaults to `"sigmoid"`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        batchnorm_momentum: Defaults to `0.99`.
        batchnorm_epsilon: Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; height, width and channels may be unknown.
        training: bool, BatchNorm mode.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.TripletAttention()
        >>> y = layer(np.ones((2, 8, 8, 16), "float32"))
        >>> tuple(y.shape), layer.count_params()  # 300 trainable + 6 statistics
        ((2, 8, 8, 16), 306)

    Reference:
        Misra et al., "Rotate to Attend: Convolutional Triplet Attention
        Module", WACV 2021.
    """

    rank_note = (
        "Its three branches each pair two of the (C, H, W) axes of an "
        "image; a sequence or a volume has other axis pairs, for which "
        "the paper defines no branches. For sequences or volumes use CBAM "
        "or BAM, which take any rank."
    )

    def __init__(
        self,
        kernel_size: int = 7,
        no_spatial: bool = False,
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
        self.no_spatial = validation.boolean("no_spatial", no_spatial)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def branches(self):
        return BRANCHES[:2] if self.no_spatial else BRANCHES

    def build(self, input_shape):
        self.fix_rank(input_shape)
        for name, _ in self.branches():
            conv = built_conv(
                self,
                (None, None, None, 2),
                1,
                self.kernel_size,
                f"{name}_conv",
                use_bias=False,
            )
            gamma = "zeros" if name == "height_width" else "ones"
            norm = built_batchnorm(
                self,
                f"{name}_bn",
                (None, None, None, 1),
                gamma_initializer=gamma,
            )
            setattr(self, f"{name}_conv", conv)
            setattr(self, f"{name}_bn", norm)

    def branch_gate(self, name, plane, x, training):
        """The gate of one branch, broadcastable to the channels_last `x`.

        The Z-pool runs on `x` as it is (no full-size transpose): pooling
        one axis leaves the other two in `x`'s order, and only the small
        pooled descriptor and the gate are transposed when the plane's
        image has them the other way round.
        """
        pooled_axis = ({1, 2, 3} - set(plane)).pop()
        kept = tuple(a for a in (1, 2, 3) if a != pooled_axis)
        swapped = tuple(plane) != kept
        descriptor = ops.stack(
            [ops.max(x, axis=pooled_axis), ops.mean(x, axis=pooled_axis)],
            axis=-1,
        )
        if swapped:  # -> (batch, plane[0], plane[1], 2)
            descriptor = ops.transpose(descriptor, (0, 2, 1, 3))
        logits = getattr(self, f"{name}_conv")(descriptor)
        logits = getattr(self, f"{name}_bn")(logits, training=training)
        gate = self.gate(logits)[..., 0]  # (batch, plane[0], plane[1])
        if swapped:
            gate = ops.transpose(gate, (0, 2, 1))
        return ops.expand_dims(gate, pooled_axis)

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        maps = {}
        # The mean of the gated maps, x * (sum of gates / branches): one
        # full-size multiply instead of one per branch and their sum.
        weight = 1.0 / len(self.branches())
        combined = None
        for name, plane in self.branches():
            gate = self.branch_gate(name, plane, x, training)
            pooled_axis = ({1, 2, 3} - set(plane)).pop()
            # The gate on its plane, axes in the plane's order.
            maps[name] = ops.transpose(
                ops.squeeze(gate, pooled_axis),
                (0, 1, 2) if plane[0] < plane[1] else (0, 2, 1),
            )
            gate = gate * weight
            combined = gate if combined is None else combined + gate
        return self.restore_layout(x * combined), maps

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "no_spatial": self.no_spatial,
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
