"""Dual attention (DANet): position and channel self-attention.

Reference: Fu, Liu, Tian, Li, Bao, Fang and Lu, "Dual Attention Network for
Scene Segmentation", CVPR 2019 (https://arxiv.org/abs/1809.02983). Public
code: junfu1115/DANet, `PAM_Module`, `CAM_Module` and `DANetHead` (read,
not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_batchnorm
from keras_chattn.layers.sublayers import built_conv
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.layers.sublayers import flatten_positions
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

    With the map flattened to N positions (H * W of an image), x of shape
    (C, N):

        position: B = W_b x, C' = W_c x (C -> C / reduction), D = W_d x
                  S = softmax_j(B_i . C'_j)                (N x N)
                  E_p = alpha * D S^T + x
        channel:  X = softmax_j(max_k(x_i . x_k) - x_i . x_j)     (C x C)
                  E_c = beta * X x + x
        y = E_p + E_c                                 (`fusion="sum"`)

    With `channels=K` the block is the authors' DANet head (`DANetHead`):
    each module gets its own input, a 3x3 convolution from C to K channels
    with BatchNorm and ReLU, and its output goes through another 3x3
    convolution (K to K) with BatchNorm and ReLU before the sum, so the
    block returns K channels and both attention matrices are K wide:

        y = CBR_p'(E_p(CBR_p(x))) + CBR_c'(E_c(CBR_c(x)))

    (CBR: convolution without bias, BatchNorm, ReLU). The authors use
    K = C / 4 (512 on ResNet's 2,048-channel last stage). Without
    `channels` (the default) both modules run on the input itself.

    alpha and beta start at 0, so a fresh block without `channels` returns
    2x (`fusion="mean"` halves the sum, returning x). The channel energy
    follows the authors' code, max - energy before the softmax, which
    favours the least similar channels; `channel_energy="paper"` uses the
    energy itself (Eq. 3). Every 1x1 convolution of the modules has a
    bias, as in the authors' code (the key's gets no gradient: it shifts
    each row of the position energy by a constant, which the softmax
    ignores). Both attention matrices and their products run in float32.

    The position matrix takes O(N^2) memory, so the model builders put the
    block once, after the last stage, and the layer
    refuses maps of more than `max_positions` positions when their size is
    known at build; with an unknown size it cannot check.

    Args:
        reduction: positive int, C / reduction query and key channels (at
            least 1). Defaults to `8`.
        channel_energy: `"code"` or `"paper"`. Defaults to `"code"`.
        fusion: `"sum"` or `"mean"`. Defaults to `"sum"`.
        max_positions: positive int, the largest N accepted. Defaults to
            `4096`.
        channels: None (the modules on the input) or a positive int K (the
            authors' head at K channels; the output has K channels).
            Defaults to `None`.
        kernel_initializer: Defaults to `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        batchnorm_momentum: of the head's BatchNorms (with `channels`).
            Defaults to `0.9` (PyTorch's 0.1).
        batchnorm_epsilon: of the head's BatchNorms. Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes may be unknown.
        training: bool, the head's BatchNorm mode (with `channels`).

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`; `(batch, length, channels)` or
        `(batch, depth, height, width, channels)` (or channels first).

    Output shape:
        Same as the input; with `channels=K`, K channels.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.DualAttention()
        >>> x = np.random.rand(2, 7, 7, 64).astype("float32")
        >>> bool(np.allclose(layer(x), 2 * x))  # alpha = beta = 0
        True
        >>> layer.count_params()  # 2 * (64*8 + 8) + 64*64 + 64 + 2
        5202
        >>> head = keras_chattn.layers.DualAttention(channels=16)
        >>> tuple(head(x).shape)
        (2, 7, 7, 16)

    Reference:
        Fu et al., "Dual Attention Network for Scene Segmentation", CVPR
        2019.
    """

    # Both modules work on the N flattened positions: N = the length of a
    # sequence, H * W of an image, D * H * W of a volume.
    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 8,
        channel_energy: str = "code",
        fusion: str = "sum",
        max_positions: int = MAX_POSITIONS,
        channels: int | None = None,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.9,
        batchnorm_epsilon: float = 1e-5,
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
        self.channels = (
            None
            if channels is None
            else validation.positive_int(
                "channels", channels, validation.MAX_WIDTH
            )
        )
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

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
        ndim = len(input_shape)
        width = channels if self.channels is None else self.channels
        if self.channels is not None:
            self.position_in = self._conv_bn(ndim, "position_in", channels)
            self.channel_in = self._conv_bn(ndim, "channel_in", channels)
            self.position_out = self._conv_bn(ndim, "position_out", width)
            self.channel_out = self._conv_bn(ndim, "channel_out", width)
        width_qk = max(1, width // self.reduction)
        self.query = built_dense(self, width_qk, (None, width), "query")
        self.key = built_dense(self, width_qk, (None, width), "key")
        self.value = built_dense(self, width, (None, width), "value")
        self.alpha = self.add_weight(
            name="alpha", shape=(), initializer="zeros"
        )
        self.beta = self.add_weight(name="beta", shape=(), initializer="zeros")

    def _conv_bn(self, ndim, name, in_channels):
        """The head's 3x3 convolution (no bias) to `channels` and its
        BatchNorm, built on a channels_last map of `in_channels`."""
        shape = (None,) * (ndim - 1) + (in_channels,)
        conv = built_conv(
            self, shape, self.channels, 3, f"{name}_conv", use_bias=False
        )
        norm = built_batchnorm(
            self, f"{name}_bn", (None,) * (ndim - 1) + (self.channels,)
        )
        return conv, norm

    @staticmethod
    def _conv_bn_relu(pair, x, training):
        conv, norm = pair
        return ops.relu(norm(conv(x), training=training))

    def _module_in_head(self, before, module, after, x, training):
        """conv-BN-ReLU, a module (E - x, its matrix), + x, conv-BN-ReLU."""
        features = self._conv_bn_relu(before, x, training)
        flat = flatten_positions(features)
        attended, matrix = module(flat)
        y = ops.cast(attended, self.compute_dtype) + flat
        y = ops.reshape(y, ops.shape(features))
        return self._conv_bn_relu(after, y, training), matrix

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
        if self.channels is None:
            y, maps = self._on_the_map(x)
        else:
            y, maps = self._head(x, training)
        if self.fusion == "mean":
            y = y / 2
        return self.restore_layout(y), maps

    def _on_the_map(self, x):
        """Both modules on one map: E_p + E_c, and their matrices (not
        `_modules`: a PyTorch-backend layer is a torch Module, whose
        `_modules` is its dict of submodules)."""
        flat = flatten_positions(x)
        position, position_map = self.position_attention(flat)
        channel, channel_map = self.channel_attention(flat)
        y = ops.cast(position + channel, self.compute_dtype) + 2 * flat
        maps = {
            "position": _sampled_rows(position_map, MAP_ROWS),
            "channel": channel_map,
        }
        return ops.reshape(y, ops.shape(x)), maps

    def _head(self, x, training):
        """DANetHead: each module between its own conv-BN-ReLU pairs."""
        position, position_map = self._module_in_head(
            self.position_in,
            self.position_attention,
            self.position_out,
            x,
            training,
        )
        channel, channel_map = self._module_in_head(
            self.channel_in,
            self.channel_attention,
            self.channel_out,
            x,
            training,
        )
        maps = {
            "position": _sampled_rows(position_map, MAP_ROWS),
            "channel": channel_map,
        }
        return position + channel, maps

    def compute_output_shape(self, input_shape):
        if self.channels is None:
            return tuple(input_shape)
        return self.with_channels(input_shape, self.channels)

    def get_config(self):
        initializer = keras.initializers.serialize(self.kernel_initializer)
        regularizer = keras.regularizers.serialize(self.kernel_regularizer)
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "channel_energy": self.channel_energy,
            "fusion": self.fusion,
            "max_positions": self.max_positions,
            "channels": self.channels,
            "kernel_initializer": initializer,
            "kernel_regularizer": regularizer,
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
