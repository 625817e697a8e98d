"""Gather-Excite.

Reference: Hu, Shen, Albanie, Sun and Vedaldi, "Gather-Excite: Exploiting
Feature Context in Convolutional Neural Networks", NeurIPS 2018
(https://arxiv.org/abs/1810.12348). Checked against timm's `GatherExcite`
(read, not copied).
"""

import math
from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.layers.sublayers import clone_initializer
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike


@keras.saving.register_keras_serializable(package="keras_chattn")
class GatherExcite(AttentionLayer):
    """Gather-Excite: context gathered over an extent, spread back as gates.

    Gather: each channel is summarised over a neighbourhood of `extent`
    (0: the whole map). Parameter-free (GE-theta-minus) it is an average
    (global, or a `2 * extent - 1` window with stride `extent`, padding
    left out of the average); parametric (GE-theta) it is a depthwise
    convolution with BatchNorm (for `extent=0` one with a kernel of the
    map's `feature_size`, padded to keep the map; for `extent=e`,
    log2(e) strided 3x3 ones with ReLU between them). Excite: an optional
    SE-style MLP (GE-theta-plus: 1x1 convolutions `C -> C / reduction -> C`
    with biases and a ReLU), a nearest-neighbour resize back to the map's
    size and a sigmoid gate:

        y = x * sigmoid(resize(mlp(gather(x))))

    As timm's `GatherExcite`: the bottleneck has `max(1, round(C /
    reduction))` units; `add_maxpool` averages the mean and max gathers of
    the parameter-free form.

    Args:
        extent: non-negative even int, the gather's extent; 0 for the whole
            map. Defaults to `0`.
        parametric: bool, gather with depthwise convolutions (then an
            `extent` above 0 must be a power of two). Defaults to `False`.
        feature_size: positive int or (height, width), the kernel of the
            parametric global gather (the map's size where the block sits);
            needed only when `parametric` and `extent=0`. Defaults to
            `None`.
        use_mlp: bool, the excite MLP. Defaults to `True`.
        reduction: positive int, the MLP's reduction ratio. Defaults to
            `16`.
        add_maxpool: bool, gather `0.5 * mean + 0.5 * max` (parameter-free
            form only). Defaults to `False`.
        gate: activation turning the excite output into weights. Defaults
            to `"sigmoid"`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        batchnorm_momentum: the gather BatchNorms' momentum. Defaults to
            `0.9` (PyTorch's 0.1).
        batchnorm_epsilon: their epsilon. Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; spatial sizes may be unknown (but for the
            parametric global gather, whose kernel is the map's size),
            channels must be known.
        training: whether the gather BatchNorms use batch statistics.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.GatherExcite(extent=2)
        >>> y = layer(np.ones((2, 8, 8, 64), "float32"))
        >>> tuple(y.shape), layer.count_params()  # MLP 64-4-64 with biases
        ((2, 8, 8, 64), 580)

    Reference:
        Hu et al., "Gather-Excite: Exploiting Feature Context in
        Convolutional Neural Networks", NeurIPS 2018.
    """

    rank_note = (
        "Its gather is defined on images (timm's and the paper's); for "
        "sequences or volumes use SqueezeExcite (GE's global "
        "parameter-free form without max pooling is SE's squeeze)."
    )

    def __init__(
        self,
        extent: int = 0,
        parametric: bool = False,
        feature_size: int | tuple[int, int] | None = None,
        use_mlp: bool = True,
        reduction: int = 16,
        add_maxpool: bool = False,
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.9,
        batchnorm_epsilon: float = 1e-5,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.extent = validation.non_negative_int("extent", extent)
        if self.extent % 2 or self.extent > validation.MAX_SIZE:
            raise ValueError(
                "extent must be 0 (the whole map) or an even number up to "
                f"{validation.MAX_SIZE}. "
                f"Received: extent={extent!r}"
            )
        self.parametric = validation.boolean("parametric", parametric)
        if self.parametric and self.extent & (self.extent - 1):
            raise ValueError(
                "A parametric gather halves the map log2(extent) times: "
                "extent must be 0 or a power of two. "
                f"Received: extent={extent!r}"
            )
        self.feature_size = _size_pair(feature_size)
        if self.parametric and self.extent == 0 and self.feature_size is None:
            raise ValueError(
                "The parametric global gather (parametric=True, extent=0) "
                "is a depthwise convolution as large as the map: pass "
                "feature_size, the map's (height, width) where the block "
                "sits. Received: feature_size=None"
            )
        self.use_mlp = validation.boolean("use_mlp", use_mlp)
        self.reduction = validation.positive_int("reduction", reduction)
        self.add_maxpool = validation.boolean("add_maxpool", add_maxpool)
        if self.add_maxpool and self.parametric:
            raise ValueError(
                "add_maxpool applies to the parameter-free gather only. "
                "Received: add_maxpool=True, parametric=True"
            )
        self.gate = validation.activation("gate", gate)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        self.gather_layers = []
        if self.parametric:
            if self.extent == 0:
                steps = [(self.feature_size, 1)]
            else:
                steps = [((3, 3), 2)] * int(math.log2(self.extent))
            for index, (kernel, stride) in enumerate(steps, start=1):
                conv = keras.layers.DepthwiseConv2D(
                    kernel,
                    strides=stride,
                    use_bias=False,
                    data_format="channels_last",
                    depthwise_initializer=clone_initializer(
                        self.kernel_initializer
                    ),
                    depthwise_regularizer=self.kernel_regularizer,
                    dtype=self.dtype_policy,
                    name=f"gather_conv{index}",
                )
                conv.build((None, None, None, channels))
                norm = keras.layers.BatchNormalization(
                    momentum=self.batchnorm_momentum,
                    epsilon=self.batchnorm_epsilon,
                    dtype=self.dtype_policy,
                    name=f"gather_norm{index}",
                )
                norm.build((None, None, None, channels))
                self.gather_layers.append((conv, norm))
        if self.use_mlp:
            units = max(1, int(channels / self.reduction + 0.5))
            self.fc1 = built_dense(self, units, channels, "fc1", "relu")
            self.fc2 = built_dense(self, channels, units, "fc2")

    def gather(self, x, training=None):
        """The gathered context of a channels_last map."""
        if self.parametric:
            for index, (conv, norm) in enumerate(self.gather_layers):
                pads = [(k - 1) // 2 for k in conv.kernel_size]
                x = ops.pad(x, [[0, 0], [pads[0]] * 2, [pads[1]] * 2, [0, 0]])
                x = norm(conv(x), training=training)
                if index < len(self.gather_layers) - 1:
                    x = ops.relu(x)
            return x
        if self.extent == 0:
            pooled = ops.mean(x, axis=(1, 2), keepdims=True)
            if self.add_maxpool:
                pooled = 0.5 * pooled + 0.5 * ops.max(
                    x, axis=(1, 2), keepdims=True
                )
            return pooled
        window, stride, pad = 2 * self.extent - 1, self.extent, self.extent - 1
        pads = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
        # The mean over the window's positions inside the map (PyTorch's
        # count_include_pad=False): the zero-padded window mean divided by
        # the share of the window inside the map.
        pool = dict(
            strides=stride, padding="valid", data_format="channels_last"
        )
        total = ops.average_pool(ops.pad(x, pads), window, **pool)
        inside = ops.average_pool(
            ops.pad(ops.ones_like(x[:1, ..., :1]), pads), window, **pool
        )
        pooled = total / inside
        if self.add_maxpool:
            # Every window holds an inside position: shifted above 0,
            # the map's zero padding never wins the max.
            floor = ops.min(x, axis=(1, 2), keepdims=True) - 1.0
            peak = ops.max_pool(ops.pad(x - floor, pads), window, **pool)
            peak = peak + floor
            pooled = 0.5 * pooled + 0.5 * peak
        return pooled

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        context = self.gather(x, training=training)
        if self.use_mlp:
            context = self.fc2(self.fc1(context))
        context = _nearest_resize(context, ops.shape(x)[1:3])
        gate = ops.cast(self.gate(context), self.compute_dtype)
        return self.restore_layout(x * gate), {"gate": gate}

    def get_config(self):
        return {
            **super().get_config(),
            "extent": self.extent,
            "parametric": self.parametric,
            "feature_size": self.feature_size,
            "use_mlp": self.use_mlp,
            "reduction": self.reduction,
            "add_maxpool": self.add_maxpool,
            "gate": keras.activations.serialize(self.gate),
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }


def _size_pair(value):
    """None, or a (height, width) pair of positive ints."""
    if value is None:
        return None
    pair = (value, value) if not isinstance(value, (tuple, list)) else value
    if len(pair) != 2:
        raise ValueError(
            "feature_size must be a positive int or a (height, width) pair. "
            f"Received: feature_size={value!r}"
        )
    return tuple(
        validation.positive_int("feature_size", size, validation.MAX_SIZE)
        for size in pair
    )


def _nearest_resize(x, size):
    """A channels_last map resized to `size` as PyTorch's default
    `interpolate` (nearest, source index floor(i * in / out)); a 1x1 map
    broadcasts unchanged."""
    if x.shape[1] == 1 and x.shape[2] == 1:
        return x
    for axis in (1, 2):
        source = ops.cast(ops.shape(x)[axis], "float32")
        target = size[axis - 1]
        index = ops.floor(
            ops.cast(ops.arange(target), "float32")
            * (source / ops.cast(target, "float32"))
        )
        index = ops.minimum(ops.cast(index, "int32"), ops.shape(x)[axis] - 1)
        x = ops.take(x, index, axis=axis)
    return x
