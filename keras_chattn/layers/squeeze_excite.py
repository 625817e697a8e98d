"""Squeeze-and-Excitation block.

Reference: Hu, Shen, Albanie, Sun and Wu, "Squeeze-and-Excitation Networks",
CVPR 2018 / TPAMI 2020 (https://arxiv.org/abs/1709.01507).
"""

import keras
from keras import ops

from keras_chattn.layers.channel_excitation import ChannelExcitation


@keras.saving.register_keras_serializable(package="keras_chattn")
class SqueezeExcite(ChannelExcitation):
    """Squeeze-and-Excitation (SE) channel recalibration.

    Squeeze: global average pooling turns the `(H, W, C)` map into one
    descriptor per channel. Excitation: `Dense(C // reduction)` ->
    `activation` -> `Dense(C)` -> `gate` gives one weight per channel, and the
    input is multiplied by it:

        y = x * gate(W2 activation(W1 mean_hw(x) + b1) + b2)

    The mean is taken with `keras.ops.mean`, which accumulates correctly in
    float16; under mixed precision the Dense layers follow the layer's dtype
    policy (float32 variables, low-precision compute).

    Args:
        reduction: positive int, channel reduction ratio r of the bottleneck.
            Defaults to `16`.
        use_bias: bool, whether the two Dense layers have biases. Defaults to
            `True` (as in the paper's reference code).
        min_units: positive int, lower bound on the bottleneck width, used when
            `C // reduction` is smaller (e.g. C=8, r=16 gives 1 unit). It may
            not exceed C. Defaults to `1`.
        activation: activation of the bottleneck. Defaults to `"relu"`.
        gate: activation that turns logits into channel weights. Defaults to
            `"sigmoid"`.
        kernel_initializer: initializer of both Dense kernels. Defaults to
            `"glorot_uniform"`.
        kernel_regularizer: optional regularizer of both Dense kernels.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume). Spatial sizes may be unknown (`None`); the channel
            count must be known.

    Input shape:
        `(batch, height, width, channels)` for `"channels_last"`,
        `(batch, channels, height, width)` for `"channels_first"`; likewise
        `(batch, length, channels)` and
        `(batch, depth, height, width, channels)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> layer = keras_chattn.layers.SqueezeExcite(reduction=16)
        >>> y = layer(np.ones((2, 8, 8, 256), "float32"))
        >>> tuple(y.shape)
        (2, 8, 8, 256)
        >>> layer.count_params()  # 2 * 256 * 16 + 16 + 256
        8464

    Reference:
        Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018.
    """

    pool_types = ("avg",)

    def attend(self, inputs, training=None):
        # Squeeze: one mean per channel over every position. Excite: the
        # bottleneck MLP and the gate. Scale: the map by its channel gates.
        squeezed = ops.mean(inputs, axis=self.spatial_axes)
        weights = ops.cast(self.gate(self.mlp(squeezed)), self.compute_dtype)
        outputs = inputs * self.broadcast_over_space(weights)
        return outputs, {"channel": weights}
