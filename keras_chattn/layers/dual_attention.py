"""Dual attention (DANet): position and channel self-attention.

Reference: Fu, Liu, Tian, Li, Bao, Fang and Lu, "Dual Attention Network for
Scene Segmentation", CVPR 2019 (https://arxiv.org/abs/1809.02983). Public
code: junfu1115/DANet, `PAM_Module` and `CAM_Module` (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.base import built_dense
from keras_chattn.layers.base import kernel_config
from keras_chattn.layers.base import set_kernel_arguments
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

CHANNEL_ENERGIES = ("code", "paper")
FUSIONS = ("sum", "mean")
# 4096 positions (64 x 64): a 16.8M-entry attention matrix per image.
MAX_POSITIONS = 4096
# The position matrix returned with `return_attention=True`: every row up
# to this many positions, else this many rows evenly spread.
MAP_ROWS = 1024


def _sampled_rows(matrix, rows):
    """`matrix` (batch, N, N), or `rows` of its rows evenly spread when N
    is larger (row k of the result is row floor(k * N / rows))."""
    n = matrix.shape[1]
    if n is not None and n <= rows:
        return matrix
    count = ops.shape(matrix)[1]
    index = ops.cast(
        ops.arange(rows) * ops.cast(count, "int32") // rows, "int32"
    )
    return ops.take(matrix, index, axis=1)


@keras.saving.register_keras_serializable(package="keras_chattn")
class DualAttention(AttentionLayer):
    """DANet's position and channel attention modules, summed.

    With the map flattened to N = H * W positions, x of shape (C, N):

        position: B = W_b x, C' = W_c x (C -> C / reduction), D = W_d x
                  S = softmax_j(B_i . C'_j)                (N x N)
                  E_p = alpha * D S^T + x
        channel:  X = softmax_j(max_k(x_i . x_k) - x_i . x_j)     (C x C)
                  E_c = beta * X x + x
        y = E_p + E_c                                 (`fusion="sum"`)

    alpha and beta start at 0, so a fresh block returns 2x (`fusion="mean"`
    halves the sum, returning x). The channel energy follows the authors'
    code, max - energy before the softmax, which favours the least similar
    channels; `channel_energy="paper"` uses the energy itself (Eq. 3).
    Every 1x1 convolution has a bias, as in the authors' code (the key's
    gets no gradient: it shifts each row of the position energy by a
    constant, which the softmax ignores). Both attention matrices and
    their products run in float32.

    The position matrix takes O(N^2) memory, so the model builders put the
    block once, after the last stage (`placement = "head"`), and the layer
    refuses maps of more than `max_positions` positions when their size is
    known at build; with an unknown size it cannot check.

    Args:
        reduction: positive int, C / reduction query and key channels (at
            least 1). Defaults to `8`.
        channel_energy: `"code"` or `"paper"`. Defaults to `"code"`.
        fusion: `"sum"` or `"mean"`. Defaults to `"sum"`.
        max_positions: positive int, the largest H * W accepted. Defaults
            to `4096`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; height and width may be unknown.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.DualAttention()
        >>> x = np.random.rand(2, 7, 7, 64).astype("float32")
        >>> bool(np.allclose(layer(x), 2 * x))  # alpha = beta = 0
        True
        >>> layer.count_params()  # 2 * (64*8 + 8) + 64*64 + 64 + 2
        5202

    Reference:
        Fu et al., "Dual Attention Network for Scene Segmentation", CVPR
        2019.
    """

    placement = "head"
    search_space = {"reduction": (4, 8, 16)}
    # Both modules work on the N flattened positions: N = the length of a
    # sequence, H * W of an image, D * H * W of a volume.
    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 8,
        channel_energy: str = "code",
        fusion: str = "sum",
        max_positions: int = MAX_POSITIONS,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.channel_energy = validation.choice(
            "channel_energy", channel_energy, CHANNEL_ENERGIES, ordered=True
        )
        self.fusion = validation.choice("fusion", fusion, FUSIONS, True)
        self.max_positions = validation.positive_int(
            "max_positions", max_positions
        )
        set_kernel_arguments(self, kernel_initializer, kernel_regularizer)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        positions = self.positions(input_shape)
        if positions is not None:
            if positions > self.max_positions:
                sizes = "x".join(map(str, self.spatial_extent(input_shape)))
                raise ValueError(
                    f"DualAttention's position attention is an N x N "
                    f"matrix per example (N positions): {sizes} = "
                    f"{positions} positions exceed "
                    f"max_positions={self.max_positions} "
                    f"({self.max_positions**2:,} entries). Place it on a "
                    "smaller map (the builders put it after the last stage) "
                    "or raise max_positions. Received: input_shape="
                    f"{tuple(input_shape)}"
                )
        width_qk = max(1, channels // self.reduction)
        self.query = built_dense(self, width_qk, (None, channels), "query")
        self.key = built_dense(self, width_qk, (None, channels), "key")
        self.value = built_dense(self, channels, (None, channels), "value")
        self.alpha = self.add_weight(
            name="alpha", shape=(), initializer="zeros"
        )
        self.beta = self.add_weight(name="beta", shape=(), initializer="zeros")

    def position_attention(self, flat):
        """(E_p - x, S) for `flat` of shape (batch, N, C), in float32."""
        query = ops.cast(self.query(flat), "float32")
        key = ops.cast(self.key(flat), "float32")
        value = ops.cast(self.value(flat), "float32")
        # einsum multiplies by the transpose without writing it out.
        energy = ops.einsum("bnk,bmk->bnm", query, key)  # (N, N)
        attention = ops.softmax(energy, axis=-1)
        alpha = ops.cast(self.alpha, "float32")
        return alpha * ops.matmul(attention, value), attention

    def channel_attention(self, flat):
        """(E_c - x, X) for `flat` of shape (batch, N, C), in float32."""
        x = ops.cast(flat, "float32")
        energy = ops.einsum("bnc,bnd->bcd", x, x)  # (C, C)
        if self.channel_energy == "code":
            # softmax(max_j e_ij - e_ij) is softmax(-e_ij): a softmax does
            # not change with a constant per row (nor does its gradient),
            # so the row max and its gradient, passes over the (C, C)
            # matrix that dominate on a late map of 2048 channels, go.
            energy = -energy
        attention = ops.softmax(energy, axis=-1)
        out = ops.einsum("bnd,bcd->bnc", x, attention)  # (N, C)
        return ops.cast(self.beta, "float32") * out, attention

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        shape = ops.shape(x)
        flat = ops.reshape(x, (shape[0], -1, shape[-1]))
        position, position_map = self.position_attention(flat)
        channel, channel_map = self.channel_attention(flat)
        y = ops.cast(position + channel, self.compute_dtype) + 2 * flat
        if self.fusion == "mean":
            y = y / 2
        maps = {
            "position": _sampled_rows(position_map, MAP_ROWS),
            "channel": channel_map,
        }
        return self.restore_layout(ops.reshape(y, shape)), maps

    def macs(self, input_shape):
        n = self.positions(input_shape)
        channels = input_shape[self.channel_axis]
        if n is None or channels is None:
            return None
        qk = max(1, channels // self.reduction)
        projections = n * channels * (2 * qk + channels)
        position = n * n * (qk + channels)
        channel = 2 * channels * channels * n
        return projections + position + channel

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "channel_energy": self.channel_energy,
            "fusion": self.fusion,
            "max_positions": self.max_positions,
            **kernel_config(self),
        }
