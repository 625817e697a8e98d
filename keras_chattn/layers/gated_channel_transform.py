"""Gated Channel Transformation (GCT).

Reference: Yang, Zhu, Wu and Yang, "Gated Channel Transformation for
Visual Recognition", CVPR 2020 (https://arxiv.org/abs/1909.11519). Public
code: z-x-yang/GCT (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.utils import validation

MODES = ("l2", "l1")


@keras.saving.register_keras_serializable(package="keras_chattn")
class GatedChannelTransform(AttentionLayer):
    """GCT: an l2 embedding, channel normalisation and a tanh gate.

    Per channel c, with `alpha`, `gamma`, `beta` learned per channel:

        s_c = alpha_c * sqrt(sum_hw(x_c^2) + eps)           (mode "l2")
        n_c = gamma_c * s_c / sqrt(mean_c(s^2) + eps)
        y_c = x_c * (1 + tanh(n_c + beta_c))

    Mode `"l1"` (the authors' alternative) uses `s_c = alpha_c *
    sum_hw(|x_c|)` (without the absolute value when `after_relu=True`) and
    `n_c = gamma_c * s_c / (mean_c(|s|) + eps)`. `alpha` starts at 1,
    `gamma` and `beta` at 0, as the authors' code: the block starts as the
    identity. The sums run in float32 (as the mean times the number of
    positions: a float16 sum over a large map overflows).

    Args:
        epsilon: positive number, eps. Defaults to `1e-5`.
        mode: `"l2"` or `"l1"`. Defaults to `"l2"`.
        after_relu: bool, the input is known to be non-negative (`"l1"`
            mode skips the absolute value). Defaults to `False`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes may be unknown, channels must be known.

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
        >>> layer = keras_chattn.layers.GatedChannelTransform()
        >>> x = np.random.default_rng(0).normal(size=(2, 8, 8, 32))
        >>> y = layer(x.astype("float32"))  # starts as the identity
        >>> bool(np.allclose(y, x, atol=1e-6)), layer.count_params()
        (True, 96)

    Reference:
        Yang et al., "Gated Channel Transformation for Visual Recognition",
        CVPR 2020.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        epsilon: float = 1e-5,
        mode: str = "l2",
        after_relu: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.epsilon = validation.number_in_range("epsilon", epsilon, 0.0, None)
        self.mode = validation.choice("mode", mode, MODES, ordered=True)
        self.after_relu = validation.boolean("after_relu", after_relu)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        for name, initializer in (
            ("alpha", "ones"),
            ("gamma", "zeros"),
            ("beta", "zeros"),
        ):
            weight = self.add_weight(
                shape=(channels,), initializer=initializer, name=name
            )
            setattr(self, name, weight)

    def channel_gate(self, inputs):
        """`1 + tanh(n + beta)`, `(batch, C)` in float32."""
        x = ops.cast(inputs, "float32")
        axes = self.spatial_axes
        shape = ops.shape(x)
        positions = 1.0
        for axis in axes:
            positions = positions * ops.cast(shape[axis], "float32")
        alpha, gamma, beta = (
            ops.cast(w, "float32") for w in (self.alpha, self.gamma, self.beta)
        )
        if self.mode == "l2":
            total = ops.mean(ops.square(x), axis=axes) * positions
            embedding = ops.sqrt(total + self.epsilon) * alpha
            norm = gamma / ops.sqrt(
                ops.mean(ops.square(embedding), axis=-1, keepdims=True)
                + self.epsilon
            )
        else:
            magnitude = x if self.after_relu else ops.abs(x)
            embedding = ops.mean(magnitude, axis=axes) * positions * alpha
            norm = gamma / (
                ops.mean(ops.abs(embedding), axis=-1, keepdims=True)
                + self.epsilon
            )
        return 1.0 + ops.tanh(embedding * norm + beta)

    def attend(self, inputs, training=None):
        gate = ops.cast(self.channel_gate(inputs), self.compute_dtype)
        return inputs * self.broadcast_over_space(gate), {"channel": gate}

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "mode": self.mode,
            "after_relu": self.after_relu,
        }
