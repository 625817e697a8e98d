"""Global context block (GCNet).

Reference: Cao, Xu, Lin, Wei and Hu, "GCNet: Non-local Networks Meet
Squeeze-Excitation Networks and Beyond", ICCV Workshops 2019
(https://arxiv.org/abs/1904.11492). Public code: xvjiarui/GCNet, the
`ContextBlock` of mmdetection (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.layers.sublayers import flatten_positions
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

FUSIONS = ("add", "multiply", "both")
POOLINGS = ("attention", "avg")


@keras.saving.register_keras_serializable(package="keras_chattn")
class GlobalContext(AttentionLayer):
    """Global context: one attention-pooled context vector, transformed and
    added to (or multiplied into) every position.

        w = softmax_hw(W_k x)                      (a 1x1 conv C -> 1)
        context = sum_hw w * x                     (batch, C)
        t(context) = W_2 ReLU(LN(W_1 context))     (C -> C / r -> C)
        y = x + t_add(context)                     (fusion "add")
        y = x * sigmoid(t_mul(context))            (fusion "multiply")

    As in the authors' code, every 1x1 convolution has a bias (the mask's
    bias gets no gradient, since the softmax ignores a shift), the
    LayerNorm normalises the C / r values of the bottleneck (epsilon 1e-5,
    with scale and offset), and each transform's last convolution starts at
    zero: a fresh "add" block is the identity (a fresh "multiply" block
    halves its input, sigmoid(0) = 0.5, as the authors' code does).
    `pooling="avg"` replaces the attention pooling by the mean (the paper's
    ablation). The softmax and the weighted sum run in float32.

    Args:
        reduction: positive int, r of the bottleneck. Defaults to `16`.
        min_units: positive int, the least bottleneck width:
            max(C // r, min_units). Defaults to `4`. (The LayerNorm of a
            1-unit bottleneck is a constant and of a 2-unit one a sign, so
            on maps of under 64 channels the authors' C // 16 would learn
            nothing; from 64 channels on, this changes nothing.)
        fusion: `"add"` (the paper's choice), `"multiply"` or `"both"`
            (multiply, then add). Defaults to `"add"`.
        pooling: `"attention"` or `"avg"`. Defaults to `"attention"`.
        kernel_initializer: initializer of the kernels that do not start at
            zero. Defaults to `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of every kernel.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes may be unknown.

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
        >>> layer = keras_chattn.layers.GlobalContext()
        >>> x = np.random.rand(2, 8, 8, 256).astype("float32")
        >>> bool(np.allclose(layer(x), x))  # a fresh "add" block
        True
        >>> layer.count_params()  # 257 + (256*16 + 16 + 32 + 16*256 + 256)
        8753

    Reference:
        Cao et al., "GCNet: Non-local Networks Meet Squeeze-Excitation
        Networks and Beyond", ICCV Workshops 2019.
    """

    def __init__(
        self,
        reduction: int = 16,
        min_units: int = 4,
        fusion: str = "add",
        pooling: str = "attention",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.min_units = validation.positive_int(
            "min_units", min_units, validation.MAX_WIDTH
        )
        self.fusion = validation.choice("fusion", fusion, FUSIONS, True)
        self.pooling = validation.choice("pooling", pooling, POOLINGS, True)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    ranks = (3, 4, 5)

    def bottleneck(self, channels):
        return max(self.min_units, channels // self.reduction)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        if self.pooling == "attention":
            self.mask = built_dense(self, 1, (None, channels), "mask")
        for kind in self.kinds():
            units = self.bottleneck(channels)
            norm = keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=self.dtype_policy, name=f"{kind}_norm"
            )
            norm.build((None, units))
            last = keras.layers.Dense(
                channels,
                kernel_initializer="zeros",
                bias_initializer="zeros",
                kernel_regularizer=self.kernel_regularizer,
                dtype=self.dtype_policy,
                name=f"{kind}_expand",
            )
            last.build((None, units))
            setattr(
                self,
                f"{kind}_reduce",
                built_dense(self, units, channels, f"{kind}_reduce"),
            )
            setattr(self, f"{kind}_norm", norm)
            setattr(self, f"{kind}_expand", last)

    def kinds(self):
        """The transforms, in the order they apply: multiply, then add."""
        return [k for k in ("multiply", "add") if self.fusion in (k, "both")]

    def transform(self, kind, context):
        """One transform of the context: C -> C / r -> LN -> ReLU -> C."""
        reduced = getattr(self, f"{kind}_reduce")(context)
        normalised = getattr(self, f"{kind}_norm")(reduced)
        return getattr(self, f"{kind}_expand")(ops.relu(normalised))

    def context(self, x):
        """The `(batch, C)` context vector of a channels_last map."""
        return self._context(x)[0]

    def _context(self, x):
        """(context, pooling weights `(batch, H, W)` or None); any rank
        (the weights have the map's spatial shape)."""
        spatial = tuple(range(1, len(x.shape) - 1))
        if self.pooling == "avg":
            return ops.mean(x, axis=spatial), None
        shape = ops.shape(x)
        flat = flatten_positions(x)
        logits = ops.cast(self.mask(flat), "float32")  # (batch, HW, 1)
        weights = ops.softmax(logits, axis=1)
        pooled = ops.sum(ops.cast(flat, "float32") * weights, axis=1)
        weights = ops.reshape(weights, tuple(shape[:-1]))
        return ops.cast(pooled, self.compute_dtype), weights

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        context, weights = self._context(x)
        maps = {} if weights is None else {"context": weights}
        y = x
        for kind in self.kinds():
            term = self.transform(kind, context)
            if kind == "multiply":
                term = ops.sigmoid(term)
            maps[kind] = term
            for _ in range(len(x.shape) - 2):
                term = ops.expand_dims(term, 1)
            y = y * term if kind == "multiply" else y + term
        return self.restore_layout(y), maps

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "min_units": self.min_units,
            "fusion": self.fusion,
            "pooling": self.pooling,
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
        }
