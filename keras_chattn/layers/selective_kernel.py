"""Selective kernel convolution (SKNet).

Reference: Li, Wang, Hu and Yang, "Selective Kernel Networks", CVPR 2019
(https://arxiv.org/abs/1903.06586). Public code: implus/SKNet (its Caffe
`sknet50.prototxt`, read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers import _kernels
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.pooled_batch_norm import PooledBatchNormalization
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.layers.sublayers import clone_initializer
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class SelectiveKernel(AttentionLayer):
    """A convolution that attends over its own kernel sizes.

    Split: `branches` grouped 3x3 convolutions of the input, the m-th with
    dilation m (3x3, then 3x3 dilated by 2, whose field is 5x5), each with
    BatchNorm and ReLU. Fuse: their sum U, globally average-pooled, goes
    through a Dense layer to d = max(filters // reduction, min_units) units
    with BatchNorm and ReLU. Select: one Dense layer per branch back to
    `filters` (one Dense of `branches * filters` units), a softmax across
    the branches for each channel, and the branches' weighted sum:

        V = sum_m softmax_m(A_m z)[c] * U_m

    The block is a convolution (the model builders put it in place of a
    3x3 convolution: `keras_chattn.models.block_table`). No convolution or
    Dense has a bias, as in the authors' code. With a stride, a dilated
    branch runs at stride 1 and is subsampled (Keras convolutions cannot be
    both strided and dilated); every branch pads symmetrically, so the
    branches stay aligned.

    Args:
        filters: positive int, output channels.
        strides: positive int, stride of every branch. Defaults to `1`.
        branches: int >= 2, M. Defaults to `2`.
        groups: positive int dividing the input channels and `filters`.
            Defaults to `32` (SKNet-50's cardinality).
        reduction: positive int, r of d. Defaults to `16`.
        min_units: positive int, L, the least d. Defaults to `32`.
        split_input: give each branch its own `1 / branches` of the input
            channels instead of all of them (timm's `split_input`, in its
            SK-ResNet-18/34). Defaults to `False`.
        kernel_initializer: initializer of every kernel. Defaults to
            `"he_normal"`.
        kernel_regularizer: optional regularizer of every kernel.
        batchnorm_momentum: Defaults to `0.99`.
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
        >>> layer = keras_chattn.layers.SelectiveKernel(128, groups=32)
        >>> tuple(layer(np.ones((2, 8, 8, 128), "float32")).shape)
        (2, 8, 8, 128)
        >>> # 2*(9*4*128+256) + 128*32+64 + 32*256 + 576 statistics
        >>> layer.count_params()
        22656

    Reference:
        Li et al., "Selective Kernel Networks", CVPR 2019.
    """

    rank_note = (
        "Its branches are grouped 2-D convolutions (3x3 and dilated 3x3) "
        "that replace a ResNet block's own 3x3 convolution; 1-D and 3-D "
        "versions are not implemented."
    )

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        branches: int = 2,
        groups: int = 32,
        reduction: int = 16,
        min_units: int = 32,
        split_input: bool = False,
        kernel_initializer: InitializerLike = "he_normal",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.99,
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
        self.branches = validation.positive_int(
            "branches", branches, validation.MAX_REPEATS
        )
        if self.branches < 2:
            raise ValueError(
                "branches must be at least 2: a selective kernel selects "
                f"between kernels. Received: branches={branches}"
            )
        self.groups = validation.positive_int(
            "groups", groups, validation.MAX_WIDTH
        )
        self.reduction = validation.positive_int("reduction", reduction)
        self.min_units = validation.positive_int(
            "min_units", min_units, validation.MAX_WIDTH
        )
        self.split_input = validation.boolean("split_input", split_input)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def units(self):
        return max(self.filters // self.reduction, self.min_units)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        if self.split_input:
            if channels % self.branches:
                raise ValueError(
                    "SelectiveKernel with split_input=True needs input "
                    "channels divisible by branches. Received: "
                    f"branches={self.branches}, input channels={channels}"
                )
            channels //= self.branches
        for name, value in (
            ("input channels", channels),
            ("filters", self.filters),
        ):
            if value % self.groups:
                raise ValueError(
                    f"SelectiveKernel's groups must divide the {name}. "
                    f"Received: groups={self.groups}, {name}={value}"
                )
        _, height, width, _ = self.channels_last_shape(input_shape)
        self.convs, self.norms = [], []
        for index in range(self.branches):
            dilation = index + 1
            conv = built_conv(
                self,
                (None, None, None, channels),
                self.filters,
                3,
                f"branch{index}_conv",
                padding="valid",
                strides=self.strides if dilation == 1 else 1,
                dilation_rate=dilation,
                groups=self.groups,
                use_bias=False,
            )
            self.convs.append(conv)
            self.norms.append(
                built_batchnorm(
                    self, f"branch{index}_bn", (None, None, None, self.filters)
                )
            )
        self.fuse = self._dense(self.units(), self.filters, "fuse")
        self.fuse_norm = built_batchnorm(
            self,
            "fuse_bn",
            (None, self.units()),
            layer_class=PooledBatchNormalization,
        )
        self.select = self._dense(
            self.branches * self.filters, self.units(), "select"
        )

    def _dense(self, units, width, name):
        dense = keras.layers.Dense(
            units,
            use_bias=False,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )
        dense.build((None, width))
        return dense

    def _branch(self, index, x, training):
        dilation = index + 1
        if self.split_input:
            width = x.shape[-1] // self.branches
            x = x[..., index * width : (index + 1) * width]
        padded = ops.pad(
            x, [[0, 0], [dilation, dilation], [dilation, dilation], [0, 0]]
        )
        # The Conv2D holds the kernel; `_kernels.grouped_conv2d` applies it
        # in a form every backend and exporter runs.
        y = _kernels.grouped_conv2d(self.convs[index], padded)
        if dilation > 1 and self.strides > 1:
            y = y[:, :: self.strides, :: self.strides]
        return ops.relu(self.norms[index](y, training=training))

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        branches = [self._branch(i, x, training) for i in range(self.branches)]
        fused = ops.mean(sum(branches[1:], branches[0]), axis=(1, 2))
        z = ops.relu(self.fuse_norm(self.fuse(fused), training=training))
        logits = ops.reshape(self.select(z), (-1, self.branches, self.filters))
        weights = ops.cast(
            ops.softmax(ops.cast(logits, "float32"), axis=1), self.compute_dtype
        )
        y = sum(
            branch * weights[:, None, None, index]
            for index, branch in enumerate(branches)
        )
        maps = {"selection": weights, "branches": ops.stack(branches, axis=1)}
        return self.restore_layout(y), maps

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = self.channels_last_shape(input_shape)
        height, width = (
            None if size is None else -(-size // self.strides)
            for size in (height, width)
        )
        return self._to_format((batch, height, width, self.filters))

    def _to_format(self, shape):
        if self.data_format == "channels_first":
            batch, height, width, channels = shape
            return (batch, channels, height, width)
        return shape

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "branches": self.branches,
            "groups": self.groups,
            "reduction": self.reduction,
            "min_units": self.min_units,
            "split_input": self.split_input,
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
