"""Shared machinery of the attention layers.

`AttentionLayer` is the base of every block that takes one feature map and
returns a recalibrated map of the same shape: it owns `data_format`, the input
rank check (which ranks a block takes: 4-D images, and for most blocks 3-D
sequences and 5-D volumes) and the identity output shape. `ChannelExcitation`
adds the bottleneck MLP that squeeze-and-excitation style channel gates share
(SE-Net's excitation, CBAM's shared MLP): pooled descriptors go through
Dense(C // reduction) -> activation -> Dense(C), the results are summed, and a
gate turns the sum into one weight per channel.
"""

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_chattn.utils import layout
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import RegularizerLike

POOL_TYPES = ("avg", "max", "lse", "lp")


def saturate(values, dtype):
    """`values` clipped to the finite range of `dtype`.

    The lse and lp pools are computed in float32; under `mixed_float16` a
    large map's L2 norm (sqrt(H * W) times its RMS) can exceed float16's
    largest value, 65504, and would become inf (then NaN in the gate). They
    saturate there instead.
    """
    if dtype == "float32":
        return values
    limit = float(np.finfo(dtype).max) if dtype == "float16" else 3.38e38
    return ops.clip(values, -limit, limit)


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


class ConfigErrorsNameTheLayer:
    """Mixin: a config a constructor refuses (a `.keras` file whose SE has
    `reduction=-4`) raises a `ValueError` naming the layer, the argument
    and the value, instead of Keras' generic "could not be deserialized
    properly" `TypeError` with the reason nested in its text."""

    @classmethod
    def from_config(cls, config):
        try:
            return super().from_config(config)
        except TypeError as error:
            # keras' Operation.from_config turns the constructor's error
            # into a TypeError raised while handling it.
            cause = error.__context__
            if not isinstance(cause, ValueError):
                raise
            raise ValueError(
                f"The config of layer {config.get('name')!r} "
                f"({cls.__name__}) is invalid: {cause}"
            ) from None


class AttentionLayer(ConfigErrorsNameTheLayer, keras.layers.Layer):
    """Base class of layers that recalibrate a feature map and keep its shape.

    Subclasses implement `build` (calling `input_channels` first), `call` and
    `macs`. The class attribute `placement` tells the model builders where the
    block goes: `"branch"` (the default) puts it on the residual branch of
    every residual block, after the last BatchNorm and before the addition,
    and after every convolution of a plain network (VGG, small CNNs);
    `"stage_input"` puts it once at the input of every stage. A block whose
    arguments depend on where it sits overrides `position_kwargs`.

    The class attribute `ranks` lists the input ranks a block takes: 4 is an
    image map `(batch, height, width, channels)`; a block whose maths does
    not need exactly two spatial axes also takes 3 (a sequence,
    `(batch, length, channels)`) and 5 (a volume or clip,
    `(batch, depth, height, width, channels)`). The rank is read at build;
    `rank_note` says why a block refuses the others.

    Args:
        data_format: `"channels_last"` (channels on the last axis) or
            `"channels_first"` (channels on axis 1). Defaults to
            `keras.config.image_data_format()`.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).
    """

    placement = "branch"
    # What a hyperparameter search may try: constructor argument -> values.
    # Hypermodels read it (keras_chattn.tuning), so a new block joins the
    # search by declaring it; the constructor default must be a value here.
    search_space = {}
    ranks = (4,)
    rank_note = ""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = validation.data_format(data_format)
        # No spec until build: `check_rank` then refuses a wrong rank with a
        # message that says which ranks the block takes (Keras' own check
        # would only say "expected ndim=4").
        self.input_spec = None
        self.map_ndim = 4

    @property
    def channel_axis(self):
        return layout.channel_axis(self.data_format)

    @property
    def spatial_axes(self):
        """The spatial axes of the map this layer was built on."""
        return layout.spatial_axes(self.data_format, self.map_ndim)

    @property
    def axes_description(self):
        return layout.axes_description(self.data_format, self.map_ndim)

    def expected_ranks(self):
        """The accepted ranks in words, e.g. "a 3-D, 4-D or 5-D input
        ((batch, length, channels), ...)"."""
        ranks = [f"{r}-D" for r in self.ranks]
        described = [
            layout.axes_description(self.data_format, r) for r in self.ranks
        ]
        if len(ranks) == 1:
            return f"a {ranks[0]} input {described[0]}"
        return (
            f"a {', '.join(ranks[:-1])} or {ranks[-1]} input "
            f"({', '.join(described[:-1])} or {described[-1]})"
        )

    def check_rank(self, input_shape):
        """Raises unless `input_shape` has a rank of `ranks` and no empty
        spatial axis; keeps the rank and returns the shape as a tuple."""
        input_shape = tuple(input_shape)
        if len(input_shape) not in self.ranks:
            note = f" {self.rank_note}" if self.rank_note else ""
            raise ValueError(
                f"{type(self).__name__} expects {self.expected_ranks()} for "
                f"data_format={self.data_format!r}.{note} "
                f"Received: input_shape={input_shape}"
            )
        self.map_ndim = len(input_shape)
        if any(
            size is not None and size < 1
            for size in self.spatial_extent(input_shape)
        ):
            raise ValueError(
                f"{type(self).__name__} needs every spatial size "
                f"{self.axes_description} to be at least 1 (an empty map "
                f"has nothing to attend to). Received: "
                f"input_shape={input_shape}"
            )
        return input_shape

    def input_channels(self, input_shape, reason="to size its weights"):
        """Checks a build shape and returns its (known) channel count.

        The input spec then fixes the rank and that count; `reason`
        completes the error message for an unknown one.
        """
        input_shape = self.check_rank(input_shape)
        channels = input_shape[self.channel_axis]
        axis = self.channel_axis % len(input_shape)
        if channels is None:
            raise ValueError(
                f"{type(self).__name__} needs a known channel dimension "
                f"(axis {axis} of {self.axes_description}) "
                f"{reason}. "
                f"Received: input_shape={input_shape}"
            )
        if channels < 1:
            raise ValueError(
                f"{type(self).__name__} needs at least one channel (axis "
                f"{axis} of {self.axes_description}). "
                f"Received: input_shape={input_shape}"
            )

        self.input_spec = keras.layers.InputSpec(
            ndim=len(input_shape), axes={self.channel_axis: channels}
        )
        return channels

    def fix_rank(self, input_shape):
        """`check_rank`, then an input spec that fixes the rank (for a
        block whose weights do not depend on the channel count)."""
        input_shape = self.check_rank(input_shape)
        self.input_spec = keras.layers.InputSpec(ndim=len(input_shape))
        return input_shape

    def with_channels(self, input_shape, channels):
        """`input_shape` with its channel dimension replaced."""
        return layout.with_channels(input_shape, channels, self.data_format)

    def channels_last(self, inputs):
        """`inputs` with the channels on the last axis.

        The newer blocks compute in channels_last whatever their data format
        (one transpose in and one out for `"channels_first"`): their
        convolutions then run on every CPU (TensorFlow has no
        channels_first Conv2D without oneDNN) and one code path serves both.
        """
        if self.data_format == "channels_first":
            ndim = len(inputs.shape)
            return ops.transpose(inputs, layout.to_channels_last_axes(ndim))
        return inputs

    def restore_layout(self, outputs):
        """The inverse of `channels_last`."""
        if self.data_format == "channels_first":
            ndim = len(outputs.shape)
            return ops.transpose(outputs, layout.to_channels_first_axes(ndim))
        return outputs

    def channels_last_shape(self, input_shape):
        """A shape in this layer's format, as channels_last."""
        input_shape = tuple(input_shape)
        if self.data_format == "channels_first":
            axes = layout.to_channels_last_axes(len(input_shape))
            return tuple(input_shape[a] for a in axes)
        return input_shape

    def broadcast_over_space(self, channel_weights):
        """(batch, C) -> a shape that multiplies the (batch, ...) input."""
        for axis in self.spatial_axes:
            channel_weights = ops.expand_dims(channel_weights, axis)
        return channel_weights

    @classmethod
    def position_kwargs(cls, input_shape, data_format, scale):
        """Constructor arguments a builder adds for a given position.

        Model builders call this with the shape of the tensor the block will
        receive, the data format and the network's scale (`"imagenet"` or
        `"cifar"`), and pass the result to the constructor; the user's
        `attention_kwargs` override it. Defaults to no extra arguments.
        """
        return {}

    def spatial_extent(self, input_shape):
        """The spatial sizes of a shape in this layer's data format
        ((height, width) of a 4-D one)."""
        return layout.spatial_extent(input_shape, self.data_format)

    def positions(self, input_shape):
        """The number of spatial positions of a shape (height * width of a
        4-D one), or None when a spatial size is unknown."""
        sizes = self.spatial_extent(input_shape)
        if any(size is None for size in sizes):
            return None
        return int(np.prod(sizes, dtype="int64"))

    def macs(self, input_shape):
        """Multiply-accumulates of one call, per example, or None if unknown.

        Counts the block's linear maps (Dense, Conv2D), one operation per
        element for pooling and for the final rescaling multiply; activations
        and BatchNorm (foldable into the preceding map) are not counted.
        `input_shape` includes the batch dimension, which is ignored.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not count its multiply-adds"
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def __call__(self, inputs, *args, **kwargs):
        check_floating(type(self).__name__, inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, return_attention=False):
        """The block's output; with `return_attention=True` also the
        dict of what it computed (`attend`'s maps, documented per block,
        always channels_last: `(batch, height, width, channels)`)."""
        if _empty_batch(inputs):
            outputs, attention = _attend_empty(self, inputs)
        else:
            outputs, attention = self.attend(inputs, training=training)
        if return_attention:
            return outputs, attention
        return outputs

    def compute_output_spec(
        self, inputs, training=None, return_attention=False
    ):
        if not return_attention:
            return super().compute_output_spec(inputs, training=training)
        # The maps' shapes come from tracing `call` symbolically (what
        # keras.layers.Layer does for a layer without compute_output_shape).
        return super(keras.layers.Layer, self).compute_output_spec(
            inputs, training=training, return_attention=True
        )

    def attend(self, inputs, training=None):
        """`(outputs, maps)`: what every block implements."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement attend(inputs, training)"
        )

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


def _empty_batch(inputs):
    """Whether `inputs` (a map or a list of maps) is a batch of 0 maps of
    fully known shape (as every eager or JAX batch is)."""
    tensors = keras.tree.flatten(inputs)
    return all(
        len(t.shape) > 0
        and t.shape[0] == 0
        and all(size is not None for size in t.shape)
        for t in tensors
    )


def _attend_empty(layer, inputs):
    """`attend` on a batch of 0 maps: an empty output and empty maps.

    An empty batch is not an error, but it breaks kernels on the way
    (TensorFlow's eager max refuses an empty tensor, its oneDNN
    convolutions return their input unchanged, a reshape cannot infer a
    size from 0 elements, and BatchNorm's statistics of nothing are NaN).
    The block instead runs in inference mode on one zero map of the same
    shape, which gives every output its shape and dtype, and returns
    their first 0 rows; no statistic moves.
    """
    one = keras.tree.map_structure(
        lambda t: ops.zeros((1, *t.shape[1:]), dtype=t.dtype), inputs
    )
    outputs, attention = layer.attend(one, training=False)
    return keras.tree.map_structure(lambda t: t[:0], (outputs, attention))


def flatten_positions(x):
    """A channels_last map `(batch, *spatial, C)` as `(batch, N, C)`, N the
    number of positions, without a -1 that an empty batch cannot infer."""
    shape = ops.shape(x)
    positions = 1
    for size in shape[1:-1]:
        positions = positions * size
    return ops.reshape(x, (shape[0], positions, shape[-1]))


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


def check_floating(layer_name, inputs):
    """Refuses integer or boolean maps, which no gate can scale."""
    for tensor in inputs if isinstance(inputs, (list, tuple)) else [inputs]:
        dtype = getattr(tensor, "dtype", None)
        if dtype is None:
            continue
        dtype = keras.backend.standardize_dtype(dtype)
        if not dtype.startswith(("float", "bfloat")):
            raise ValueError(
                f"{layer_name} takes floating-point maps; cast the input "
                f"first (e.g. keras.ops.cast(x, 'float32')). Received: an "
                f"input of dtype {dtype}"
            )


def set_kernel_arguments(layer, kernel_initializer, kernel_regularizer):
    """Keeps a block's kernel initializer and regularizer on `layer`."""
    layer.kernel_initializer = validation.initializer_instance(
        "kernel_initializer", kernel_initializer
    )
    layer.kernel_regularizer = validation.regularizer(
        "kernel_regularizer", kernel_regularizer
    )


def kernel_config(layer):
    """The config entries of `set_kernel_arguments`."""
    return {
        "kernel_initializer": keras.initializers.serialize(
            layer.kernel_initializer
        ),
        "kernel_regularizer": keras.regularizers.serialize(
            layer.kernel_regularizer
        ),
    }


def set_batchnorm_arguments(layer, batchnorm_momentum, batchnorm_epsilon):
    """Checks and keeps a block's BatchNorm momentum and epsilon."""
    layer.batchnorm_momentum = validation.number_in_range(
        "batchnorm_momentum", batchnorm_momentum, 0.0, 1.0
    )
    layer.batchnorm_epsilon = validation.number_in_range(
        "batchnorm_epsilon", batchnorm_epsilon, 0.0, None
    )


def batchnorm_config(layer):
    """The config entries of `set_batchnorm_arguments`."""
    return {
        "batchnorm_momentum": layer.batchnorm_momentum,
        "batchnorm_epsilon": layer.batchnorm_epsilon,
    }


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


def set_excitation_arguments(
    layer,
    reduction,
    use_bias,
    min_units,
    activation,
    gate,
    kernel_initializer,
    kernel_regularizer,
):
    """Checks the channel MLP's arguments and keeps them on `layer`.

    Shared by `ChannelExcitation` (SE, ChannelAttention) and CBAM, which
    takes the same arguments for its channel half.
    """
    layer.reduction = validation.positive_int("reduction", reduction)
    layer.use_bias = validation.boolean("use_bias", use_bias)
    layer.min_units = validation.positive_int(
        "min_units", min_units, validation.MAX_WIDTH
    )
    layer.activation = validation.activation("activation", activation)
    layer.gate = validation.activation("gate", gate)
    layer.kernel_initializer = validation.initializer_instance(
        "kernel_initializer", kernel_initializer
    )
    layer.kernel_regularizer = validation.regularizer(
        "kernel_regularizer", kernel_regularizer
    )


def excitation_config(layer):
    """The config entries of the arguments `set_excitation_arguments` kept."""
    return {
        "reduction": layer.reduction,
        "use_bias": layer.use_bias,
        "min_units": layer.min_units,
        "activation": keras.activations.serialize(layer.activation),
        "gate": keras.activations.serialize(layer.gate),
        "kernel_initializer": keras.initializers.serialize(
            layer.kernel_initializer
        ),
        "kernel_regularizer": keras.regularizers.serialize(
            layer.kernel_regularizer
        ),
    }


class ChannelExcitation(AttentionLayer):
    """Base of channel gates: pooled descriptors -> shared MLP -> sum -> gate.

    The pools run over every spatial axis, so the gate is defined for any
    rank: sequences (3-D), images (4-D) and volumes (5-D).

    Subclasses set `pool_types`, a tuple from `POOL_TYPES` (a constructor
    argument of `ChannelAttention`, fixed to `("avg",)` in `SqueezeExcite`).
    Every pooled `(batch, C)` descriptor goes through the same two Dense
    layers (`reduce`, `expand`); their outputs are summed before the gate.
    """

    ranks = (3, 4, 5)

    def __init__(
        self,
        reduction: int = 16,
        use_bias: bool = True,
        min_units: int = 1,
        activation: ActivationLike = "relu",
        gate: ActivationLike = "sigmoid",
        kernel_initializer: InitializerLike = "glorot_uniform",
        kernel_regularizer: RegularizerLike = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_format=data_format, **kwargs)
        set_excitation_arguments(
            self,
            reduction,
            use_bias,
            min_units,
            activation,
            gate,
            kernel_initializer,
            kernel_regularizer,
        )

    def bottleneck_units(self, channels):
        """max(channels // reduction, min_units), refusing an expansion."""
        units = max(channels // self.reduction, self.min_units)
        if units > channels:
            raise ValueError(
                f"{type(self).__name__} would widen, not squeeze: "
                f"min_units={self.min_units} is larger than the input's "
                f"{channels} channels (with reduction={self.reduction}). "
                f"Pass min_units <= {channels}."
            )
        return units

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        units = self.bottleneck_units(channels)
        self.reduce = built_dense(
            self, units, channels, "reduce", self.activation, self.use_bias
        )
        self.expand = built_dense(
            self, channels, units, "expand", use_bias=self.use_bias
        )

    def pool(self, inputs):
        """One `(batch, C)` descriptor per entry of `self.pool_types`."""
        return [self._global_pool(inputs, p) for p in self.pool_types]

    def _global_pool(self, inputs, pool_type):
        axes = self.spatial_axes
        if pool_type == "avg":
            # keras.ops.mean accumulates correctly in float16 (a float16
            # tf.reduce_mean does not, and a float16 sum stops at 2048).
            return ops.mean(inputs, axis=axes)
        if pool_type == "max":
            return ops.max(inputs, axis=axes)
        # Both overflow float16 on ordinary maps: compute in float32.
        wide = ops.cast(inputs, "float32")
        if pool_type == "lse":
            pooled = ops.logsumexp(wide, axis=axes)
        else:  # "lp": the L2 norm over positions
            squares = ops.sum(ops.square(wide), axis=axes)
            # sqrt has an infinite slope at 0: an all-zero channel gets the
            # norm 0 with a zero gradient instead of NaN.
            nonzero = squares > 0
            pooled = ops.where(
                nonzero, ops.sqrt(ops.where(nonzero, squares, 1.0)), 0.0
            )
        return ops.cast(
            saturate(pooled, self.compute_dtype), self.compute_dtype
        )

    def macs(self, input_shape):
        positions = self.positions(input_shape)
        if positions is None:
            return None
        channels = input_shape[self.channel_axis]
        units = self.bottleneck_units(channels)
        positions = positions * channels
        per_pool = positions + 2 * channels * units
        return len(self.pool_types) * per_pool + positions

    def channel_weights(self, inputs):
        """The gate's output, shape `(batch, C)`, before broadcasting."""
        descriptors = self.pool(inputs)
        if len(descriptors) == 1:
            return self.gate(self.expand(self.reduce(descriptors[0])))
        # All descriptors through the MLP in one pass, (batch, pools, C),
        # then summed over the pools: the same sum as one pass per pool, and
        # int8 quantisation then gives the hidden units one range over all
        # pools (a unit dead on one pool alone, e.g. after max pooling,
        # otherwise gets a zero range, which XNNPACK refuses).
        logits = self.expand(self.reduce(ops.stack(descriptors, axis=1)))
        return self.gate(ops.sum(logits, axis=1))

    def attend(self, inputs, training=None):
        weights = self.channel_weights(inputs)
        outputs = inputs * self.broadcast_over_space(weights)
        return outputs, {"channel": weights}

    def get_config(self):
        return {**super().get_config(), **excitation_config(self)}
