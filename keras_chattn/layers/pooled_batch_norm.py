"""BatchNormalization of pooled vectors that stays right at a batch of one.

SE-style blocks that normalise a globally pooled descriptor (BA-Net's
fusion, BAM's channel branch, SKNet's fuse layer) see one row per image, so
a training batch of a single image has no batch statistics. The authors'
PyTorch modules raise there ("Expected more than 1 value per channel");
Keras' BatchNormalization instead normalises the row to 0 and decays its
moving variance by `momentum` at every such step, which silently distorts
every later inference. `PooledBatchNormalization` is the one answer the
package gives wherever it normalises pooled vectors.
"""

import keras
from keras import ops

from keras_chattn.layers.base import ConfigErrorsNameTheLayer


@keras.saving.register_keras_serializable(package="keras_chattn")
class PooledBatchNormalization(
    ConfigErrorsNameTheLayer, keras.layers.BatchNormalization
):
    """BatchNormalization of `(batch, units)` vectors, safe at batch 1.

    Exactly Keras' BatchNormalization over the batch axis, except in
    training on a batch of a single vector: there the batch statistics are
    meaningless (variance 0), so the layer normalises with its moving
    statistics, as at inference, and leaves them unchanged. The batch size
    may be unknown until run time. Statistics are computed in float32
    under mixed precision.

    It takes the arguments of `keras.layers.BatchNormalization`
    (`momentum`, `epsilon`, `center`, `scale`, initializers, ...); `axis`
    must be the last one.

    Input shape:
        `(batch, units)`.

    Output shape:
        Same as the input.

    Examples:

        >>> import keras
        >>> import numpy as np
        >>> import keras_chattn
        >>> norm = keras_chattn.layers.PooledBatchNormalization(momentum=0.9)
        >>> one = np.full((1, 3), 5.0, "float32")
        >>> for _ in range(60):
        ...     _ = norm(one, training=True)
        >>> variance = keras.ops.convert_to_numpy(norm.moving_variance)
        >>> variance.tolist()  # unchanged
        [1.0, 1.0, 1.0]
        >>> four = np.arange(12, dtype="float32").reshape(4, 3)
        >>> _ = norm(four, training=True)
        >>> variance = keras.ops.convert_to_numpy(norm.moving_variance)
        >>> round(float(variance[0]), 3)  # 0.9 + 0.1 * 11.25
        2.025

    Reference:
        Ioffe and Szegedy, "Batch Normalization", ICML 2015.
    """

    def build(self, input_shape):
        if len(input_shape) != 2 or self.axis not in (-1, 1):
            raise ValueError(
                "PooledBatchNormalization normalises pooled (batch, units) "
                "vectors over the batch axis. Received: "
                f"input_shape={tuple(input_shape)}, axis={self.axis}"
            )
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        if not training or not self.trainable:
            return super().call(inputs, training=False)
        x = ops.cast(inputs, "float32")
        batch_mean, batch_variance = ops.moments(x, axes=[0])
        moving_mean = ops.cast(self.moving_mean, "float32")
        moving_variance = ops.cast(self.moving_variance, "float32")
        # 1.0 for a batch of several vectors, 0.0 for a single one.
        several = ops.cast(ops.shape(x)[0] > 1, "float32")
        update = several * (1.0 - self.momentum)
        self.moving_mean.assign(
            moving_mean + update * (batch_mean - moving_mean)
        )
        self.moving_variance.assign(
            moving_variance + update * (batch_variance - moving_variance)
        )
        mean = moving_mean + several * (batch_mean - moving_mean)
        variance = moving_variance + several * (
            batch_variance - moving_variance
        )
        outputs = (x - mean) * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            outputs = outputs * ops.cast(self.gamma, "float32")
        if self.center:
            outputs = outputs + ops.cast(self.beta, "float32")
        return ops.cast(outputs, self.compute_dtype)
