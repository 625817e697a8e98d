"""Selective kernel convolution (SKNet).

Reference: Li, Wang, Hu and Yang, "Selective Kernel Networks", CVPR 2019
(https://arxiv.org/abs/1903.06586). Public code: implus/SKNet (its Caffe
`sknet50.prototxt`, read, not copied).
"""

import math
from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.base import batchnorm_config
from keras_chattn.layers.base import built_batchnorm
from keras_chattn.layers.base import built_conv
from keras_chattn.layers.base import clone_initializer
from keras_chattn.layers.base import kernel_config
from keras_chattn.layers.base import set_batchnorm_arguments
from keras_chattn.layers.base import set_kernel_arguments
from keras_chattn.layers.grouped_conv import grouped_conv
from keras_chattn.layers.pooled_batch_norm import PooledBatchNormalization
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

# SKNet-50's cardinality and the least group width of its 32x4d bottleneck.
CARDINALITY = 32
MIN_GROUP_WIDTH = 4


def builder_groups(in_channels, filters, cardinality=CARDINALITY):
    """The groups a model builder gives a selective kernel in its place:
    the largest divisor of gcd(in, out) that is at most `cardinality` and
    leaves at least 4 channels per group (SKNet-50's 32x4d).

    Examples:

        >>> from keras_chattn.layers.selective_kernel import builder_groups
        >>> (builder_groups(128, 128), builder_groups(64, 64),
        ...  builder_groups(16, 16))
        (32, 16, 4)
    """
    common = math.gcd(in_channels, filters)
    limit = max(1, min(cardinality, common // MIN_GROUP_WIDTH))
    return max(g for g in range(1, limit + 1) if common % g == 0)


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

    The block is the convolution: the model builders put it in place of
    the 3x3 convolution of each residual block (and of a plain network's
    3x3 convolutions but the first), with that convolution's filters and
    stride and the network's BatchNorm settings, and with
    `builder_groups(in, filters)` groups. No convolution or Dense has a
    bias, as in the authors' code. With a stride, a dilated branch runs at
    stride 1 and is subsampled (Keras convolutions cannot be both strided
    and dilated); every branch pads symmetrically, so the branches stay
    aligned.

    Args:
        filters: positive int, output channels.
        strides: positive int, stride of every branch. Defaults to `1`.
        branches: int >= 2, M. Defaults to `2`.
        groups: positive int dividing the input channels and `filters`.
            Defaults to `32` (SKNet-50's cardinality).
        reduction: positive int, r of d. Defaults to `16`.
        min_units: positive int, L, the least d. Defaults to `32`.
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
    placement = "replace_conv"
    search_space = {"reduction": (8, 16, 32)}

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        branches: int = 2,
        groups: int = CARDINALITY,
        reduction: int = 16,
        min_units: int = 32,
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
        set_kernel_arguments(self, kernel_initializer, kernel_regularizer)
        set_batchnorm_arguments(self, batchnorm_momentum, batchnorm_epsilon)

    @classmethod
    def conv_kwargs(cls, input_shape, filters, strides, data_format):
        """The arguments a builder gives the block that replaces a conv."""
        channels = input_shape[-1 if data_format == "channels_last" else 1]
        return {
            "filters": filters,
            "strides": strides,
            "groups": builder_groups(channels, filters),
        }

    def units(self):
        return max(self.filters // self.reduction, self.min_units)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
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
        padded = ops.pad(
            x, [[0, 0], [dilation, dilation], [dilation, dilation], [0, 0]]
        )
        conv = self.convs[index]
        # The Conv2D holds the kernel; grouped_conv applies it in a form
        # every backend and exporter runs (see grouped_conv's docstring).
        y = grouped_conv(
            padded,
            ops.cast(conv.kernel, self.compute_dtype),
            self.groups,
            strides=conv.strides[0],
            dilation_rate=dilation,
        )
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

    def macs(self, input_shape):
        _, height, width, channels = self.channels_last_shape(input_shape)
        if None in (height, width, channels):
            return None
        out = -(-height // self.strides) * -(-width // self.strides)
        convs = self.branches * out * self.filters * 9 * channels // self.groups
        fuse_select = self.filters * self.units() * (1 + self.branches)
        return convs + 2 * self.branches * out * self.filters + fuse_select

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "branches": self.branches,
            "groups": self.groups,
            "reduction": self.reduction,
            "min_units": self.min_units,
            **kernel_config(self),
            **batchnorm_config(self),
        }
