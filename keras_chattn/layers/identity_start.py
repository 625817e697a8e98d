"""A wrapper that makes any block start as the identity.

Used by `keras_chattn.models.add_attention(..., start_as_identity=True)` so
that attention inserted into a trained network leaves its outputs unchanged
until training moves the gate.
"""

from typing import Any

import keras
from keras import ops

from keras_chattn.layers.base import ConfigErrorsNameTheLayer
from keras_chattn.utils import layout
from keras_chattn.utils import validation

GATES = ("scalar", "channel")


@keras.saving.register_keras_serializable(package="keras_chattn")
class IdentityStart(ConfigErrorsNameTheLayer, keras.layers.Layer):
    """`y = x + g * (block(x) - x)`, with the gate g starting at 0.

    A freshly inserted block computes something else than its input (a
    fresh SE roughly halves it, a fresh CBAM quarters it); wrapped, it is
    exactly the identity at first, and training learns how much of the
    block to let in. `gate="scalar"` learns one g, `gate="channel"` one per
    channel. The gate is a float32 variable under mixed precision.

    Args:
        block: the layer to wrap (or its serialized config; one without a
            `dtype` or `data_format` follows this wrapper's); it must return
            a map of its input's shape.
        gate: `"scalar"` or `"channel"`. Defaults to `"scalar"`.
        data_format: where the channel axis is, for `gate="channel"`.
            Defaults to the block's `data_format`, else Keras' global one.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> wrapped = keras_chattn.layers.IdentityStart(
        ...     keras_chattn.layers.SqueezeExcite(reduction=4)
        ... )
        >>> x = np.random.rand(2, 8, 8, 16).astype("float32")
        >>> bool(np.array_equal(np.asarray(wrapped(x)), x))
        True
    """

    def __init__(
        self,
        block: keras.layers.Layer | dict,
        gate: str = "scalar",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(block, dict):
            block = dict(block, config=dict(block.get("config", {})))
            # A config without a dtype follows this wrapper's policy.
            block["config"].setdefault(
                "dtype", keras.dtype_policies.serialize(self.dtype_policy)
            )
            # So does one without a data format, given this wrapper's.
            if data_format is not None:
                block["config"].setdefault("data_format", data_format)
            block = keras.saving.deserialize_keras_object(block)
        if not isinstance(block, keras.layers.Layer):
            raise ValueError(
                "block must be a keras.layers.Layer to wrap. Received: "
                f"block={block!r}"
            )
        self.block = block
        self.gate = validation.choice("gate", gate, GATES, ordered=True)
        if data_format is None:
            data_format = getattr(block, "data_format", None)
        self.data_format = validation.data_format(data_format)

    def build(self, input_shape):
        if not self.block.built:
            self.block.build(input_shape)
        shape = ()
        if self.gate == "channel":
            channels = input_shape[layout.channel_axis(self.data_format)]
            if channels is None:
                raise ValueError(
                    "IdentityStart(gate='channel') needs a known channel "
                    f"count. Received: input_shape={tuple(input_shape)}"
                )
            shape = (channels,)
        self.g = self.add_weight(
            name="gate", shape=shape, initializer="zeros", dtype="float32"
        )

    def call(self, inputs, training=None, return_attention=False):
        if return_attention:
            return self.attend(inputs, training=training)
        return self._mix(inputs, self.block(inputs, training=training))

    def attend(self, inputs, training=None):
        """`(output, maps)`: the block's maps, its own output
        (`"block_output"`) and the gate (`"gate"`)."""
        outputs, maps = self.block(
            inputs, training=training, return_attention=True
        )
        g = ops.cast(self.g, outputs.dtype)
        mixed = self._mix(inputs, outputs)
        return mixed, {**maps, "gate": g, "block_output": outputs}

    def _mix(self, inputs, outputs):
        g = ops.cast(self.g, outputs.dtype)
        if self.gate == "channel" and self.data_format == "channels_first":
            g = ops.reshape(g, (-1, 1, 1))
        return inputs + g * (outputs - inputs)

    def compute_output_shape(self, input_shape):
        return self.block.compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "block": keras.saving.serialize_keras_object(self.block),
            "gate": self.gate,
            "data_format": self.data_format,
        }
