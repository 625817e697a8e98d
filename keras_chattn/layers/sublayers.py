"""The sublayers blocks build: Dense, convolutions, BatchNorms.

Each is made on its owner's dtype policy, with its own copy of the owner's
kernel initializer (sublayers never share one) and the owner's regularizer,
and built on a computed shape. Blocks compute in channels_last whatever
their own data format, so the convolutions name it.
"""

import keras
from keras import ops


def clone_initializer(initializer):
    """A fresh instance with the same config, so sublayers never share one."""
    return keras.initializers.get(keras.initializers.serialize(initializer))


def built_dense(
    owner, units, input_width, name, activation=None, use_bias=True
):
    """A Dense sublayer of `owner`, built on `(None, input_width)`.

    It follows `owner`'s dtype policy and gets its own copy of the owner's
    `kernel_initializer` and its `kernel_regularizer`. `input_width` may be
    a tuple of trailing dimensions (e.g. `(None, width)`).
    """
    dense = keras.layers.Dense(
        units,
        activation=activation,
        use_bias=use_bias,
        kernel_initializer=clone_initializer(owner.kernel_initializer),
        kernel_regularizer=owner.kernel_regularizer,
        dtype=owner.dtype_policy,
        name=name,
    )
    widths = input_width if isinstance(input_width, tuple) else (input_width,)
    dense.build((None, *widths))
    return dense


CONVOLUTIONS = {3: "Conv1D", 4: "Conv2D", 5: "Conv3D"}


def convolution_for(ndim, *args, **kwargs):
    """The Keras convolution for an `ndim`-D channels_last map (Conv1D for
    a sequence, Conv2D for an image, Conv3D for a volume).

    Blocks compute in channels_last whatever their own data format, so the
    convolution names it: left to Keras it would follow the global
    `image_data_format`, and under `"channels_first"` build other weights.
    """
    kwargs.setdefault("data_format", "channels_last")
    return getattr(keras.layers, CONVOLUTIONS[ndim])(*args, **kwargs)


def built_conv(owner, input_shape, filters, kernel_size, name, **kwargs):
    """A channels_last convolution sublayer of `owner` for a map of
    `input_shape` (its rank picks Conv1D, 2D or 3D), "same" padding by
    default, with `owner`'s dtype policy, its own copy of the owner's
    kernel initializer and the owner's kernel regularizer; built."""
    kwargs.setdefault("padding", "same")
    conv = convolution_for(
        len(input_shape),
        filters,
        kernel_size,
        kernel_initializer=clone_initializer(owner.kernel_initializer),
        kernel_regularizer=owner.kernel_regularizer,
        dtype=owner.dtype_policy,
        name=name,
        **kwargs,
    )
    conv.build(tuple(input_shape))
    return conv


def built_batchnorm(
    owner,
    name,
    shape,
    axis=-1,
    gamma_initializer="ones",
    layer_class=keras.layers.BatchNormalization,
):
    """A BatchNormalization sublayer of `owner` (its momentum, epsilon and
    dtype policy), built on `shape`. Pooled `(batch, units)` vectors take
    `layer_class=PooledBatchNormalization` (safe at a batch of one)."""
    norm = layer_class(
        axis=axis,
        momentum=owner.batchnorm_momentum,
        epsilon=owner.batchnorm_epsilon,
        gamma_initializer=gamma_initializer,
        dtype=owner.dtype_policy,
        name=name,
    )
    norm.build(shape)
    return norm


def flatten_positions(x):
    """A channels_last map `(batch, *spatial, C)` as `(batch, N, C)`, N the
    number of positions, without a -1 that an empty batch cannot infer."""
    shape = ops.shape(x)
    positions = 1
    for size in shape[1:-1]:
        positions = positions * size
    return ops.reshape(x, (shape[0], positions, shape[-1]))
