"""SimAM, a parameter-free attention module.

Reference: Yang, Zhang, Li and Xie, "SimAM: A Simple, Parameter-Free
Attention Module for Convolutional Neural Networks", ICML 2021
(https://proceedings.mlr.press/v139/yang21o.html). Public code:
ZjjConan/SimAM (read, not copied).
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.utils import validation


@keras.saving.register_keras_serializable(package="keras_chattn")
class SimAM(AttentionLayer):
    """SimAM: each activation weighted by the inverse of its minimal energy.

    With n = H * W - 1, for every channel:

        d = (x - mean_hw(x))^2
        v = sum_hw(d) / n
        e = d / (4 (v + lambda)) + 0.5
        y = x * sigmoid(e)

    No weights. The statistics are computed in float32 whatever the compute
    dtype (a float16 sum over a large map overflows), and the variance as
    mean(d) * (H * W) / n, never as a float16 sum divided by n; a 1x1 map
    (n = 0) gets e = 0.5 at its one position.

    The authors place it right after the 3x3 convolution of each residual
    block, before that convolution's BatchNorm, and so do the model
    builders. They use lambda = 1e-4 on CIFAR and 0.1 on ImageNet; the
    builders give an ImageNet-scale network 0.1.

    Args:
        e_lambda: positive number, lambda. Defaults to `1e-4`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes and channels may be unknown.

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
        >>> layer = keras_chattn.layers.SimAM()
        >>> y = layer(np.ones((2, 8, 8, 16), "float32"))  # constant: e = 0.5
        >>> round(float(np.asarray(y)[0, 0, 0, 0]), 4), layer.count_params()
        (0.6225, 0)

    Reference:
        Yang et al., "SimAM: A Simple, Parameter-Free Attention Module for
        Convolutional Neural Networks", ICML 2021.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        e_lambda: float = 1e-4,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.e_lambda = validation.number_in_range(
            "e_lambda", e_lambda, 0.0, None
        )

    def build(self, input_shape):
        self.fix_rank(input_shape)

    def energy(self, inputs):
        """e, the inverse energy, in float32, with the input's shape."""
        x = ops.cast(inputs, "float32")
        axes = self.spatial_axes
        shape = ops.shape(x)
        positions = 1.0
        for axis in axes:
            positions = positions * ops.cast(shape[axis], "float32")
        squared = ops.square(x - ops.mean(x, axis=axes, keepdims=True))
        # sum(d) / n = mean(d) * HW / n, with n = HW - 1 (0 on a 1x1 map);
        # HW is the number of positions (the length of a sequence, D*H*W of
        # a volume).
        n = ops.maximum(positions - 1.0, 1.0)
        variance = ops.mean(squared, axis=axes, keepdims=True) * (positions / n)
        return squared / (4.0 * (variance + self.e_lambda)) + 0.5

    def attend(self, inputs, training=None):
        energy = self.energy(inputs)
        gate = ops.cast(ops.sigmoid(energy), self.compute_dtype)
        return inputs * gate, {"energy": self.channels_last(energy)}

    def get_config(self):
        return {**super().get_config(), "e_lambda": self.e_lambda}
