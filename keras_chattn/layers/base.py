"""The base class of the attention blocks: rank, layout and calling.

`AttentionLayer` is the base of every block that takes a feature map and
returns a recalibrated one: it owns `data_format`, the input rank check
(which ranks a block takes: 4-D images, and for most blocks 3-D sequences
and 5-D volumes), the axes of the map, the identity output shape, and the
calling convention (`attend` returns the output and the block's maps,
`return_attention=True` returns both; a batch of 0 maps gives 0 outputs).
A block knows its maths only: where builders put it, what a tuner tries
and what it costs live in `keras_chattn.models` and `keras_chattn.tuning`.
"""

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_chattn.utils import layout
from keras_chattn.utils import validation


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

    Subclasses implement `build` (calling `input_channels` or `fix_rank`
    first) and `attend(inputs, training)`, which returns the output and a
    dict of the maps the block computed.

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
