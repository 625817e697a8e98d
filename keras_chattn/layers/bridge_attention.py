"""Bridge attention (BA-Net): channel weights from every convolution of a block.

Reference: Zhao et al., "BA-Net: Bridge Attention for Deep Convolutional
Neural Networks" (ECCV 2022), as recapped in the enhanced channel-wise
attention report; public code zhaoy376/Bridge-Attention (`models/BA_module.py`,
read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.pooled_batch_norm import PooledBatchNormalization
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


class _PooledBatchNormalization(PooledBatchNormalization):
    """`PooledBatchNormalization` under the class name that `.keras` files
    store BridgeAttention's fusion BatchNorms by (Keras names the layers
    of a list after their class)."""


@keras.saving.register_keras_serializable(package="keras_chattn")
class BridgeAttention(AttentionLayer):
    """Recalibrates the last of several maps with weights from all of them.

    Called on a list `[F_1, ..., F_n]` of feature maps with the same batch
    and spatial size (channel counts may differ), the last being the one to
    recalibrate (C channels): each F_i is global-average-pooled and goes
    through its own `Dense(C // reduction, no bias)` and BatchNormalization;
    the n results are summed, then `activation`, `Dense(C)`, `gate`, and the
    result multiplies F_n:

        y = F_n * gate(W (act(sum_i BN_i(W_i mean_hw(F_i)))))

    A single map (or a one-element list) gives an SE block with BatchNorm.
    Model builders hand every residual block's intermediate outputs to it
    (`keras_chattn.models.block_table`).

    The BatchNorms act on pooled vectors, so their statistics are over the
    batch only. A training batch of a single image has no statistics: for
    it the BatchNorms normalise with their moving statistics (as at
    inference) and leave them unchanged, instead of decaying the moving
    variance towards 0 as a plain BatchNorm would (which silently distorts
    every later inference gate). BatchNorm follows the reference (PyTorch's
    epsilon 1e-5, momentum 0.1, i.e. Keras momentum 0.9).

    Args:
        reduction: positive int, C // reduction fusion units (at least 1).
            Defaults to `16`.
        use_bias: bool, a bias in the final Dense. Defaults to `False` (the
            reference).
        activation: activation of the fused vector. Defaults to `"relu"`.
        gate: activation giving the channel weights. Defaults to `"sigmoid"`.
        kernel_initializer: initializer of the Dense kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the Dense kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list of 4-D tensors (or one tensor), the last recalibrated.
        training: mode of the BatchNorms.

    Input shape:
        A list of `(batch, height, width, C_i)` (or channels-first) shapes;
        or, all of one rank, of sequences `(batch, length, C_i)` or volumes
        `(batch, depth, height, width, C_i)`.

    Output shape:
        The shape of the last input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> f1 = np.random.rand(2, 8, 8, 64).astype("float32")
        >>> f3 = np.random.rand(2, 8, 8, 256).astype("float32")
        >>> layer = keras_chattn.layers.BridgeAttention(reduction=16)
        >>> tuple(layer([f1, f1, f3]).shape)
        (2, 8, 8, 256)
        >>> len(layer.trainable_weights), len(layer.non_trainable_weights)
        (10, 6)

    Reference:
        Zhao et al., "BA-Net: Bridge Attention for Deep Convolutional Neural
        Networks", ECCV 2022.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 16,
        use_bias: bool = False,
        activation: ActivationLike = "relu",
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.input_spec = None  # a list of maps; checked in build
        self.reduction = validation.positive_int("reduction", reduction)
        self.use_bias = validation.boolean("use_bias", use_bias)
        self.activation = validation.activation("activation", activation)
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer = validation.initializer_instance(
            "kernel_initializer", kernel_initializer
        )
        self.kernel_regularizer = validation.regularizer(
            "kernel_regularizer", kernel_regularizer
        )

    @staticmethod
    def _shape_list(input_shape):
        """A list of shapes from a single shape or a list of shapes."""
        if isinstance(input_shape, (list, tuple)) and input_shape:
            first = input_shape[0]
            if first is None or isinstance(first, int):
                return [tuple(input_shape)]
            return [tuple(s) for s in input_shape]
        raise ValueError(
            "BridgeAttention takes a non-empty list of feature maps "
            "[F_1, ..., F_n] of one rank (3-D, 4-D or 5-D). Received: "
            f"input_shape={input_shape!r}"
        )

    def _check_shapes(self, shapes):
        ranks = {len(shape) for shape in shapes}
        if len(ranks) > 1:
            raise ValueError(
                "BridgeAttention's inputs must all have one rank (all "
                "sequences, all images or all volumes); they differ: "
                f"input shapes={[tuple(s) for s in shapes]}"
            )
        channels = [self.input_channels(shape) for shape in shapes]
        self.input_spec = None  # input_channels set a single-input spec
        for axis, what in [
            (0, "batch"),
            *[(a, "spatial") for a in self.spatial_axes],
        ]:
            sizes = {s[axis] for s in shapes if s[axis] is not None}
            if len(sizes) > 1:
                raise ValueError(
                    f"BridgeAttention's inputs must share their {what} size "
                    f"(axis {axis}); they differ: "
                    f"input shapes={[tuple(s) for s in shapes]}"
                )
        return channels

    def build(self, input_shape):
        shapes = self._shape_list(input_shape)
        channels = self._check_shapes(shapes)
        out_channels = channels[-1]
        units = max(out_channels // self.reduction, 1)
        self.fusions = []
        self.fusion_norms = []
        for index, width in enumerate(channels):
            dense = built_dense(
                self, units, width, f"fuse{index}", use_bias=False
            )
            norm = _PooledBatchNormalization(
                momentum=0.9,
                epsilon=1e-5,
                dtype=self.dtype_policy,
                name=f"fuse{index}_bn",
            )
            norm.build((None, units))
            self.fusions.append(dense)
            self.fusion_norms.append(norm)
        self.expand = built_dense(
            self, out_channels, units, "expand", use_bias=self.use_bias
        )

    def attend(self, inputs, training=None):
        maps = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(maps) != len(self.fusions):
            raise ValueError(
                f"BridgeAttention was built for {len(self.fusions)} inputs "
                f"and got {len(maps)}."
            )
        fused = None
        for x, dense, norm in zip(
            maps, self.fusions, self.fusion_norms, strict=True
        ):
            part = norm(
                dense(ops.mean(x, axis=self.spatial_axes)), training=training
            )
            fused = part if fused is None else fused + part
        weights = self.gate(self.expand(self.activation(fused)))
        outputs = maps[-1] * self.broadcast_over_space(weights)
        return outputs, {"channel": weights}

    def compute_output_shape(self, input_shape):
        return self._shape_list(input_shape)[-1]

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "use_bias": self.use_bias,
            "activation": keras.activations.serialize(self.activation),
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
