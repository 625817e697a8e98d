"""Spatial Group-wise Enhance (SGE).

Reference: Li, Hu and Yang, "Spatial Group-wise Enhance: Improving Semantic
Feature Learning in Convolutional Networks", 2019
(https://arxiv.org/abs/1905.09646). Public code: implus/PytorchInsight,
`SpatialGroupEnhance` (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.utils import validation


@keras.saving.register_keras_serializable(package="keras_chattn")
class SpatialGroupEnhance(AttentionLayer):
    """SGE: each channel group gated by its similarity to its own mean.

    The channels are split into `groups` consecutive groups. In each group
    g, every position's feature vector is compared with the group's
    global mean vector; the similarity map is normalised over the
    positions, scaled and shifted by one learned pair per group, and gates
    the group:

        c_i = sum_k x_ik * mean_hw(x_k)          (per group, position i)
        n_i = (c_i - mean(c)) / (std(c) + 1e-5)  (std with n - 1)
        y_ik = x_ik * sigmoid(weight_g * n_i + bias_g)

    `weight` starts at 0 and `bias` at 1, the authors' initialisation (every
    gate starts at sigmoid(1)). The statistics are computed in float32; on
    a map with one position the normalised map is 0 (the authors' code
    divides 0 by 0 there).

    Args:
        groups: positive int, the number of channel groups; the channel
            count must be a multiple of it. Defaults to `16` (any width
            that is a multiple of 16; the authors' SGE-ResNets use 64,
            which the model builders give where the channels allow).
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
        >>> layer = keras_chattn.layers.SpatialGroupEnhance(groups=8)
        >>> y = layer(np.ones((2, 8, 8, 64), "float32"))  # gates sigmoid(1)
        >>> round(float(np.asarray(y)[0, 0, 0, 0]), 4), layer.count_params()
        (0.7311, 16)

    Reference:
        Li et al., "Spatial Group-wise Enhance: Improving Semantic Feature
        Learning in Convolutional Networks", 2019.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        groups: int = 16,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.groups = validation.positive_int("groups", groups)

    def build(self, input_shape):
        channels = self.input_channels(input_shape, "to split it in groups")
        if channels % self.groups:
            raise ValueError(
                f"SpatialGroupEnhance needs a channel count that is a "
                f"multiple of groups={self.groups}. Received: "
                f"input_shape={tuple(input_shape)} ({channels} channels)"
            )
        self.weight = self.add_weight(
            shape=(self.groups,), initializer="zeros", name="weight"
        )
        self.bias = self.add_weight(
            shape=(self.groups,), initializer="ones", name="bias"
        )

    def normalised_similarity(self, inputs):
        """n, `(batch, *spatial, groups)` in float32."""
        x = ops.cast(self.channels_last(inputs), "float32")
        shape = ops.shape(x)
        grouped = ops.reshape(
            x, (*shape[:-1], self.groups, shape[-1] // self.groups)
        )
        space = tuple(range(1, len(shape) - 1))
        similarity = ops.sum(
            grouped * ops.mean(grouped, axis=space, keepdims=True), axis=-1
        )
        positions = 1.0
        for axis in space:
            positions = positions * ops.cast(shape[axis], "float32")
        centred = similarity - ops.mean(similarity, axis=space, keepdims=True)
        # The unbiased variance (n - 1), as torch.std; 0 / 1 on one position.
        variance = ops.mean(ops.square(centred), axis=space, keepdims=True)
        variance = variance * positions / ops.maximum(positions - 1.0, 1.0)
        return centred / (ops.sqrt(variance) + 1e-5)

    def attend(self, inputs, training=None):
        normalised = self.normalised_similarity(inputs)
        gate = ops.sigmoid(
            normalised * ops.cast(self.weight, "float32")
            + ops.cast(self.bias, "float32")
        )
        x = self.channels_last(inputs)
        shape = ops.shape(x)
        grouped = ops.reshape(
            x, (*shape[:-1], self.groups, shape[-1] // self.groups)
        )
        outputs = grouped * ops.cast(gate, self.compute_dtype)[..., None]
        outputs = self.restore_layout(ops.reshape(outputs, shape))
        return outputs, {"group": gate}

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}
