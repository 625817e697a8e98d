"""FcaNet's multi-spectral channel attention.

Reference: Qin, Zhang, Wu and Li, "FcaNet: Frequency Channel Attention
Networks", ICCV 2021 (https://arxiv.org/abs/2012.11879). Public code:
cfzd/FcaNet, `MultiSpectralAttentionLayer` (read, not copied).
"""

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.sublayers import built_dense
from keras_chattn.utils import validation
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

# The authors' frequency orders on a 7x7 grid (u along the height, v along
# the width): "top" ranks the 49 frequencies by their accuracy alone in
# the paper's Fig. 4, "low" goes from low to high, "bot" is "top" reversed.
FREQUENCY_ORDERS = {
    "top": (
        (0, 0, 6, 0, 0, 1, 1, 4, 5, 1, 3, 0, 0, 0, 3, 2,
         4, 6, 3, 5, 5, 2, 6, 5, 5, 3, 3, 4, 2, 2, 6, 1),
        (0, 1, 0, 5, 2, 0, 2, 0, 0, 6, 0, 4, 6, 3, 5, 2,
         6, 3, 3, 3, 5, 1, 1, 2, 4, 2, 1, 1, 3, 0, 5, 3),
    ),
    "low": (
        (0, 0, 1, 1, 0, 2, 2, 1, 2, 0, 3, 4, 0, 1, 3, 0,
         1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4),
        (0, 1, 0, 1, 2, 0, 1, 2, 2, 3, 0, 0, 4, 3, 1, 5,
         4, 3, 2, 1, 0, 6, 5, 4, 3, 2, 1, 0, 6, 5, 4, 3),
    ),
    "bot": (
        (6, 1, 3, 3, 2, 4, 1, 2, 4, 4, 5, 1, 4, 6, 2, 5,
         6, 1, 6, 2, 2, 4, 3, 3, 5, 5, 6, 2, 5, 5, 3, 6),
        (6, 4, 4, 6, 6, 3, 1, 4, 4, 5, 6, 5, 2, 2, 5, 1,
         4, 3, 5, 0, 3, 1, 1, 2, 4, 2, 1, 1, 5, 3, 3, 3),
    ),
}  # fmt: skip
FREQUENCY_COUNTS = (1, 2, 4, 8, 16, 32)
FREQUENCIES = tuple(
    f"{order}{count}"
    for order in FREQUENCY_ORDERS
    for count in FREQUENCY_COUNTS
)


def dct_filters(channels, size, frequencies):
    """The `(height, width, channels)` DCT weights: channel group k (of
    `len(frequencies)` equal groups) gets the 2-D DCT-II basis of its
    frequency, scaled to the grid as the authors do (index * size // 7).

    Examples:

        >>> filters = dct_filters(4, (7, 7), "top2")
        >>> filters.shape, round(float(filters[0, 0, 0]), 4)  # 1 / 7
        ((7, 7, 4), 0.1429)
    """
    order, count = frequencies[:3], int(frequencies[3:])
    rows, columns = (
        [index * (size[axis] // 7) for index in FREQUENCY_ORDERS[order][axis]]
        for axis in (0, 1)
    )
    filters = np.zeros((*size, channels))
    part = channels // count
    for k in range(count):
        basis = np.outer(
            _dct_basis(rows[k], size[0]), _dct_basis(columns[k], size[1])
        )
        filters[:, :, k * part : (k + 1) * part] = basis[:, :, None]
    return filters.astype("float32")


def _dct_basis(frequency, length):
    positions = np.arange(length)
    basis = np.cos(math.pi * frequency * (positions + 0.5) / length)
    basis = basis / math.sqrt(length)
    return basis * (math.sqrt(2) if frequency else 1.0)


@keras.saving.register_keras_serializable(package="keras_chattn")
class MultiSpectralAttention(AttentionLayer):
    """FcaNet: SE whose squeeze is a set of DCT frequencies.

    SE's global average is the lowest 2-D DCT frequency. FcaNet splits the
    channels into `n` groups and squeezes group k with the DCT basis of
    its own frequency (u_k, v_k) on a `dct_size` grid (the map is first
    average-pooled to that grid, PyTorch's adaptive pooling, when its size
    differs); then SE's excitation without biases:

        z_c = sum_ij B_(u_k, v_k)(i, j) pool(x)_c(i, j)   (c in group k)
        y = x * sigmoid(W2 relu(W1 z))

    The frequencies are the authors' orders (`"top"`, `"low"`, `"bot"`)
    with 1 to 32 of them (`"top16"`, the paper's choice); indices on the
    7x7 grid are scaled by `dct_size // 7`. The authors' ResNets use a
    grid of 56, 28, 14, 7 in the four stages (the maps' own sizes at
    224x224). The squeeze runs in float32.

    Args:
        dct_size: int from 7 to 224 or (height, width), the DCT grid.
            Defaults to `7`.
        frequencies: one of `FREQUENCIES` (`"top16"`, `"low4"`, ...);
            the channel count must be a multiple of its number. Defaults
            to `"top16"`.
        reduction: positive int, the MLP's reduction ratio; its bottleneck
            has `max(1, C // reduction)` units. Defaults to `16`.
        kernel_initializer: initializer of both Dense kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of the kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 4-D tensor; spatial sizes may be unknown, channels must
            be known.

    Input shape:
        `(batch, height, width, channels)` or, for `"channels_first"`,
        `(batch, channels, height, width)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.MultiSpectralAttention()
        >>> y = layer(np.ones((2, 14, 14, 64), "float32"))
        >>> tuple(y.shape), layer.count_params()  # 2 * 64 * 4, no biases
        ((2, 14, 14, 64), 512)

    Reference:
        Qin et al., "FcaNet: Frequency Channel Attention Networks", ICCV
        2021.
    """

    rank_note = (
        "Its squeeze is a 2-D DCT (the authors' frequencies are defined "
        "on a 7x7 grid); for sequences or volumes use SqueezeExcite or "
        "ECA."
    )

    def __init__(
        self,
        dct_size: int | tuple[int, int] = 7,
        frequencies: str = "top16",
        reduction: int = 16,
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        pair = dct_size if isinstance(dct_size, (tuple, list)) else None
        if pair is None:
            pair = (dct_size, dct_size)
        if len(pair) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or not 7 <= s <= 224
            for s in pair
        ):
            raise ValueError(
                "dct_size must be an int from 7 to 224 or a (height, width) "
                "pair of them (the authors' frequencies index a 7x7 grid; "
                f"their largest grid is 56). Received: dct_size={dct_size!r}"
            )
        self.dct_size = tuple(pair)
        self.frequencies = validation.choice(
            "frequencies", frequencies, FREQUENCIES, ordered=True
        )
        self.reduction = validation.positive_int("reduction", reduction)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        count = int(self.frequencies[3:])
        if channels % count:
            raise ValueError(
                f"MultiSpectralAttention with frequencies="
                f"{self.frequencies!r} splits the channels into {count} "
                f"groups: the channel count must be a multiple of {count}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.filters = dct_filters(channels, self.dct_size, self.frequencies)
        units = max(1, channels // self.reduction)
        self.fc1 = built_dense(self, units, channels, "fc1", use_bias=False)
        self.fc2 = built_dense(self, channels, units, "fc2", use_bias=False)

    def squeeze(self, inputs):
        """The DCT descriptors, `(batch, C)` in float32."""
        x = ops.cast(self.channels_last(inputs), "float32")
        for axis in (1, 2):
            target = self.dct_size[axis - 1]
            if x.shape[axis] == target:
                continue
            pooling = _adaptive_pooling(ops.shape(x)[axis], target)
            x = ops.moveaxis(
                ops.tensordot(pooling, ops.moveaxis(x, axis, 0), axes=1),
                0,
                axis,
            )
        filters = ops.convert_to_tensor(self.filters, "float32")
        return ops.sum(x * filters, axis=(1, 2))

    def attend(self, inputs, training=None):
        squeezed = ops.cast(self.squeeze(inputs), self.compute_dtype)
        weights = ops.sigmoid(self.fc2(ops.relu(self.fc1(squeezed))))
        weights = ops.cast(weights, self.compute_dtype)
        outputs = inputs * self.broadcast_over_space(weights)
        return outputs, {"channel": weights}

    def get_config(self):
        return {
            **super().get_config(),
            "dct_size": self.dct_size,
            "frequencies": self.frequencies,
            "reduction": self.reduction,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
        }


def _adaptive_pooling(length, target):
    """The `(target, length)` matrix of PyTorch's adaptive average pooling:
    row i averages positions floor(i L / t) .. ceil((i + 1) L / t) - 1."""
    index = ops.arange(target, dtype="int32")[:, None]
    positions = ops.arange(length, dtype="int32")[None, :]
    start = (index * length) // target
    end = ((index + 1) * length + target - 1) // target
    inside = ops.logical_and(positions >= start, positions < end)
    return ops.cast(inside, "float32") / ops.cast(end - start, "float32")
