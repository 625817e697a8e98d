"""Contextual Convolution Block (CC-block).

Reference: Marwood and Baluja, "Contextual Convolution Blocks", Google
Research (sections 2, 2.1, 3.1.1, 3.1.2). There is no official public code;
this layer is implemented from the paper.
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers import maps
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.excitation_maps import EMPS
from keras_chattn.layers.excitation_maps import render_emp
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.layers.sublayers import clone_initializer
from keras_chattn.utils import layout
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

VARIANTS = (
    "reduced",
    "full",
    "full_no_mix",
    "full_no_ch",
    "input_independent",
    "scalar",
    "static_scalar",
)
# Variants whose coefficients are learned weights, not functions of X.
INPUT_INDEPENDENT = ("input_independent", "static_scalar")
# Variants with one coefficient per channel (no EMP).
SCALAR = ("scalar", "static_scalar")


@keras.saving.register_keras_serializable(package="keras_chattn")
class ContextualConv(AttentionLayer):
    """CC-block: a smooth spatial excitation map per channel, from context.

    Output = S(X) * X, where the excitation map S has the input's full shape
    and S = EMP(MIX(CH(context))):

    - context: each channel nearest-resized to `context_size` x
      `context_size` (left unchanged along an axis that is already smaller)
      and flattened to n values;
    - coefficients P, 4 per channel (1 for the scalar variants), mapped to
      c = `tanh(P) / 2 + 1` in (0.5, 1.5);
    - EMP: `"bilinear"` (Eq. 2: a ramp between per-edge values, the paper's
      choice), `"gaussian"` or `"sine"` (Table 2), rendered at the input's
      run-time size (positions and coefficient scales as documented in
      `keras_chattn.layers.excitation_maps`).

    What P = 0 gives: `"bilinear"` and `"sine"`, the identity map (S = 1);
    `"gaussian"`, a centred bump of mean 1.00 ranging from 0.86 at the
    corners to 1.08 at the centre (no Gaussian is the identity); the scalar
    variants, a gain of 1. A fresh block has P near 0, so it leaves the
    scale of its input about unchanged with every EMP.

    Variants (the paper's experiments and Figure 6 ablation):

    - `"reduced"` (CC-block-Reduced, the paper's best): each channel's own
      linear map (weights and bias) from its n context values to its 4
      coefficients. C * (4n + 4) weights.
    - `"full"` (CC-block-Full): CH, two hidden layers of `ch_units` applied
      to each channel with its own weights, then MIX, one Dense layer over
      all channels' CH outputs giving the 4C coefficients.
    - `"full_no_mix"`: CH, then each channel's own linear map to 4.
    - `"full_no_ch"`: MIX directly on all channels' contexts.
    - `"input_independent"`: P is a learned (C, 4) weight (starting at 0),
      not a function of X; S is constant at inference (section 2.1).
    - `"scalar"` (|P_c| = 1): an SE-like scalar in (0.5, 1.5) per channel
      from each channel's own linear map; no EMP (the paper's "Scalar
      Recalibration").
    - `"static_scalar"`: a learned scalar in (0.5, 1.5) per channel,
      independent of X (a (C, 1) weight starting at 0): the paper's
      "static per channel weighting" of section 3.

    `coefficients(inputs)` returns the mapped coefficients (batch, C, k) that
    the EMP receives, for analysis, without changing the layer's output.

    With an unknown height or width the layer assumes maps of at least
    `context_size` (the parameter count is then fixed by `context_size`) and
    resizes any map to `context_size` x `context_size`; for maps smaller than
    that, build it on a static size.

    Args:
        variant: one of `VARIANTS`. Defaults to `"reduced"`.
        emp: `"bilinear"`, `"gaussian"` or `"sine"` (ignored by the scalar
            variants). Defaults to `"bilinear"`.
        context_size: positive int, side of the downsampled context. Defaults
            to `11`, the paper's.
        ch_units: two positive ints, the widths of CH's hidden layers (the
            `"full"` variants). Defaults to `(16, 4)`.
        activation: activation of CH's hidden layers. Defaults to `"relu"`.
        kernel_initializer: initializer of every kernel. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of every kernel.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Other ranks: on a sequence `(batch, length, channels)` the context is
    the length resized to `context_size` and the EMP a product of one
    factor (2 coefficients per channel: the ramp's two ends, the Gaussian's
    centre and width, the sine's frequency and phase); on a volume
    `(batch, depth, height, width, channels)` the context is
    `context_size`^3 and the EMP a product of three factors (6
    coefficients). See `keras_chattn.layers.excitation_maps.render_emp`.

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor with a known channel count.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.ContextualConv()
        >>> y = layer(np.random.rand(2, 32, 32, 32).astype("float32"))
        >>> tuple(y.shape), layer.count_params()  # 32 * (4 * 121 + 4)
        ((2, 32, 32, 32), 15616)

    Reference:
        Marwood and Baluja, "Contextual Convolution Blocks".
    """

    # full_no_ch is left out: it multiplies a small network's size by ~17.

    ranks = (3, 4, 5)

    def __init__(
        self,
        variant: str = "reduced",
        emp: str = "bilinear",
        context_size: int = 11,
        ch_units: tuple[int, int] = (16, 4),
        activation: ActivationLike = "relu",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.variant = validation.choice("variant", variant, VARIANTS)
        self.emp = validation.choice("emp", emp, tuple(EMPS))
        self.context_size = validation.positive_int(
            "context_size", context_size, validation.MAX_SIZE
        )
        if not isinstance(ch_units, (list, tuple)) or len(ch_units) != 2:
            raise ValueError(
                "ch_units must be a pair of positive ints (the widths of CH's "
                f"two hidden layers). Received: ch_units={ch_units!r}"
            )
        self.ch_units = tuple(
            validation.positive_int("ch_units", u, validation.MAX_WIDTH)
            for u in ch_units
        )
        self.activation = validation.activation("activation", activation)
        self.kernel_initializer = validation.initializer_instance(
            "kernel_initializer", kernel_initializer
        )
        self.kernel_regularizer = validation.regularizer(
            "kernel_regularizer", kernel_regularizer
        )

    @property
    def coefficient_count(self):
        """1 (scalar variants), else a pair per spatial axis (4 on images,
        2 on sequences, 6 on volumes)."""
        return 1 if self.variant in SCALAR else 2 * (self.map_ndim - 2)

    def context_shape(self, input_shape):
        """(h, w) of the context (one size per spatial axis):
        min(size, context_size), or context_size."""
        return tuple(
            self.context_size if size is None else min(size, self.context_size)
            for size in self.spatial_extent(input_shape)
        )

    def _kernel(self, shape, name):
        return self.add_weight(
            shape=shape,
            initializer=clone_initializer(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
            name=name,
        )

    def _bias(self, shape, name):
        return self.add_weight(shape=shape, initializer="zeros", name=name)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        # Fixed at build: the weights are sized for it, whatever the run-time
        # size of later inputs.
        self.built_context_shape = self.context_shape(input_shape)
        n = maps._area(self.built_context_shape)
        k = self.coefficient_count
        first, second = self.ch_units
        variant = self.variant
        if variant in INPUT_INDEPENDENT:
            self.independent = self.add_weight(
                shape=(channels, k), initializer="zeros", name="coefficients"
            )
        if variant in ("reduced", "scalar"):
            self.kernel = self._kernel((channels, n, k), "kernel")
            self.bias = self._bias((channels, k), "bias")
        if variant in ("full", "full_no_mix"):
            self.ch1_kernel = self._kernel((channels, n, first), "ch1_kernel")
            self.ch1_bias = self._bias((channels, first), "ch1_bias")
            self.ch2_kernel = self._kernel(
                (channels, first, second), "ch2_kernel"
            )
            self.ch2_bias = self._bias((channels, second), "ch2_bias")
        if variant == "full_no_mix":
            self.out_kernel = self._kernel((channels, second, k), "out_kernel")
            self.out_bias = self._bias((channels, k), "out_bias")
        if variant in ("full", "full_no_ch"):
            width_in = second if variant == "full" else n
            self.mix = built_dense(
                self, k * channels, channels * width_in, "mix"
            )

    @staticmethod
    def _per_channel(rows, kernel, bias):
        """Each channel's own linear map: (batch, C, a) -> (batch, C, b)."""
        return ops.einsum("bca,cak->bck", rows, kernel) + bias

    def _raw_coefficients(self, inputs):
        """P, shape (batch, C, k), before the tanh(P) / 2 + 1 mapping."""
        if self.variant in INPUT_INDEPENDENT:
            batch = ops.shape(inputs)[0]
            return ops.broadcast_to(
                ops.cast(self.independent, self.compute_dtype)[None],
                (batch, *self.independent.shape),
            )
        rows = maps.to_channel_rows(
            inputs, self.built_context_shape, self.data_format
        )
        if self.variant in ("reduced", "scalar"):
            return self._per_channel(rows, self.kernel, self.bias)
        if self.variant in ("full", "full_no_mix"):
            rows = self.activation(
                self._per_channel(rows, self.ch1_kernel, self.ch1_bias)
            )
            rows = self.activation(
                self._per_channel(rows, self.ch2_kernel, self.ch2_bias)
            )
            if self.variant == "full_no_mix":
                return self._per_channel(rows, self.out_kernel, self.out_bias)
        shape = ops.shape(rows)
        mixed = self.mix(ops.reshape(rows, (shape[0], -1)))
        return ops.reshape(mixed, (shape[0], shape[1], self.coefficient_count))

    def coefficients(self, inputs):
        """The EMP's coefficients tanh(P) / 2 + 1, shape (batch, C, k)."""
        return ops.tanh(self._raw_coefficients(inputs)) / 2.0 + 1.0

    def attend(self, inputs, training=None):
        coefficients = self.coefficients(inputs)
        maps = {"coefficients": coefficients}
        ndim = len(inputs.shape)
        if self.variant in SCALAR:
            scale = ops.cast(coefficients[..., 0], self.compute_dtype)
            maps["excitation"] = ops.reshape(
                scale, (-1, *[1] * (ndim - 2), scale.shape[-1])
            )
            return inputs * self.broadcast_over_space(scale), maps
        shape = ops.shape(inputs)
        sizes = tuple(shape[axis] for axis in self.spatial_axes)
        channels_last = self.data_format == "channels_last"
        # Rendered in the input's layout: no full-size transpose of the map
        # (forward or backward) for channels_last input.
        excitation = render_emp(
            self.emp, coefficients, sizes, channels_last=channels_last
        )
        excitation = ops.cast(excitation, self.compute_dtype)
        maps["excitation"] = (
            excitation
            if channels_last
            else ops.transpose(excitation, layout.to_channels_last_axes(ndim))
        )
        return inputs * excitation, maps

    def get_config(self):
        return {
            **super().get_config(),
            "variant": self.variant,
            "emp": self.emp,
            "context_size": self.context_size,
            "ch_units": list(self.ch_units),
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }
