"""The non-local block (embedded Gaussian).

Reference: Wang, Girshick, Gupta and He, "Non-local Neural Networks", CVPR
2018 (https://arxiv.org/abs/1711.07971). Checked against timm's
`NonLocalAttn` and mmcv's `NonLocal2d` (read, not copied).
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

SCALES = ("inter", "input", "none")


@keras.saving.register_keras_serializable(package="keras_chattn")
class NonLocal(AttentionLayer):
    """Non-local block: every position attends to every other.

    With 1x1 projections theta, phi, g to `C // reduction` channels and the
    positions of the map flattened:

        A = softmax_j(theta(x_i) . phi(x_j) * s)
        y_i = x_i + BN(W_z sum_j A_ij g(x_j))

    (the embedded Gaussian form). `s` is `1 / sqrt(C // reduction)` with
    `scale="inter"` (mmcv), `1 / sqrt(C)` with `"input"` (timm) or 1 with
    `"none"` (the paper). The BatchNorm's gamma starts at 0, so the block
    starts as the identity (the paper); with `norm=False` the output
    projection's weights start at 0 instead (mmcv's default). With
    `sub_sample=True` phi and g are max-pooled by 2 along each spatial
    axis (not along a volume's first, time, axis), the paper's cheaper
    form. The paper defines it for video, so sequences, images and volumes
    are all taken; its memory grows with the square of the positions.

    Args:
        reduction: positive int, `C // reduction` inner channels (at least
            1). Defaults to `2` (the paper's and mmcv's).
        scale: one of `"inter"`, `"input"`, `"none"`. Defaults to
            `"inter"`.
        sub_sample: bool, max-pool phi and g (every pooled spatial size
            must be at least 2). Defaults to `False`.
        norm: bool, BatchNorm after the output projection. Defaults to
            `True`.
        kernel_initializer: initializer of the projections. Defaults to
            `"he_normal"` (timm's Kaiming normal).
        kernel_regularizer: optional regularizer of the projections.
        batchnorm_momentum: the BatchNorm's momentum. Defaults to `0.9`.
        batchnorm_epsilon: its epsilon. Defaults to `1e-5`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a 3-D, 4-D or 5-D tensor (a sequence, an image or a
            volume); spatial sizes may be unknown, channels must be known.
        training: whether the BatchNorm uses batch statistics.

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
        >>> layer = keras_chattn.layers.NonLocal()
        >>> x = np.random.default_rng(0).normal(size=(2, 6, 6, 16))
        >>> y = layer(x.astype("float32"))  # starts as the identity
        >>> bool(np.allclose(y, x, atol=1e-6)), layer.count_params()
        (True, 616)

    Reference:
        Wang et al., "Non-local Neural Networks", CVPR 2018.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 2,
        scale: str = "inter",
        sub_sample: bool = False,
        norm: bool = True,
        kernel_initializer: InitializerLike = "he_normal",
        kernel_regularizer: RegularizerLike = None,
        batchnorm_momentum: float = 0.9,
        batchnorm_epsilon: float = 1e-5,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.reduction = validation.positive_int("reduction", reduction)
        self.scale = validation.choice("scale", scale, SCALES, ordered=True)
        self.sub_sample = validation.boolean("sub_sample", sub_sample)
        self.norm = validation.boolean("norm", norm)
        self.kernel_initializer, self.kernel_regularizer = (
            validation.kernel_arguments(kernel_initializer, kernel_regularizer)
        )
        self.batchnorm_momentum, self.batchnorm_epsilon = (
            validation.batchnorm_settings(batchnorm_momentum, batchnorm_epsilon)
        )

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        pooled = self.spatial_extent(tuple(input_shape))
        if self.map_ndim == 5:
            pooled = pooled[1:]
        if self.sub_sample and any(s is not None and s < 2 for s in pooled):
            raise ValueError(
                "NonLocal with sub_sample=True max-pools phi and g by 2: "
                f"every pooled spatial size {self.axes_description} must be "
                f"at least 2. Received: input_shape={tuple(input_shape)}"
            )
        inner = max(1, channels // self.reduction)
        for name in ("theta", "phi", "g"):
            setattr(self, name, built_dense(self, inner, channels, name))
        self.out = built_dense(self, channels, inner, "out")
        if self.norm:
            self.batchnorm = keras.layers.BatchNormalization(
                momentum=self.batchnorm_momentum,
                epsilon=self.batchnorm_epsilon,
                gamma_initializer="zeros",
                dtype=self.dtype_policy,
                name="batchnorm",
            )
            self.batchnorm.build((None, None, channels))
        else:
            self.out.kernel.assign(ops.zeros(self.out.kernel.shape))
        factor = {"inter": inner**-0.5, "input": channels**-0.5, "none": 1.0}
        self.logit_scale = factor[self.scale]

    def pooled(self, x):
        """phi's and g's input: `x` (channels_last), max-pooled by 2 when
        sub-sampling."""
        if not self.sub_sample:
            return x
        pool = {3: (2,), 4: (2, 2), 5: (1, 2, 2)}[self.map_ndim]
        # In float32 (exact for a max): TensorFlow's CPU MaxPool3D has no
        # float16 kernel.
        pooled = ops.max_pool(
            ops.cast(x, "float32"),
            pool,
            pool,
            padding="valid",
            data_format="channels_last",
        )
        return ops.cast(pooled, x.dtype)

    def attend(self, inputs, training=None):
        x = self.channels_last(inputs)
        source = self.pooled(x)
        theta = flatten_positions(self.theta(x))
        phi = flatten_positions(self.phi(source))
        g = flatten_positions(self.g(source))
        logits = ops.matmul(theta, ops.transpose(phi, (0, 2, 1)))
        # Softmax in float32: float16 logits of a large map lose the
        # differences that decide the weights.
        logits = ops.cast(logits, "float32") * self.logit_scale
        attention = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        context = self.out(ops.matmul(attention, g))
        if self.norm:
            context = self.batchnorm(context, training=training)
        context = ops.reshape(context, ops.shape(x))
        return self.restore_layout(x + context), {"attention": attention}

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "scale": self.scale,
            "sub_sample": self.sub_sample,
            "norm": self.norm,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
            "kernel_regularizer": keras.regularizers.serialize(
                self.kernel_regularizer
            ),
            "batchnorm_momentum": self.batchnorm_momentum,
            "batchnorm_epsilon": self.batchnorm_epsilon,
        }
