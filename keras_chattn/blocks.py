"""`register_block`: a user's own block, known everywhere in one call.

The registry (`keras_chattn.ATTENTION_LAYERS`: names for builders, the
tuner and the tests), the builders' placement table
(`keras_chattn.models.block_table`) and the tuner's search spaces
(`keras_chattn.tuning.spaces`) each hold their own part; this is the one
call that fills all three.
"""

from collections.abc import Callable
from typing import Any

import keras

from keras_chattn.layers import registry
from keras_chattn.models import block_table
from keras_chattn.tuning import spaces
from keras_chattn.utils import validation


def register_block(
    name: str,
    block: Callable[..., keras.layers.Layer],
    placement: str = "branch",
    search_space: dict[str, tuple] | None = None,
    takes_features: bool = False,
    position_kwargs: Callable[..., dict[str, Any]] | None = None,
    conv_kwargs: Callable[..., dict[str, Any]] | None = None,
) -> None:
    """Registers `block` under `name` for builders, `add_attention` and the
    tuner.

    Args:
        name: the registry name (lowercase letters, digits and `_`), not
            one already taken.
        block: a Layer class or a callable returning a new layer when
            called with keyword arguments (`name=` among them).
        placement: where builders put it, one of
            `keras_chattn.models.block_table.PLACEMENTS`. Defaults to
            `"branch"`.
        search_space: `{constructor argument: values}` the tuner tries;
            None for none.
        takes_features: the block is called on its residual block's
            convolution outputs (as BA-Net). Defaults to False.
        position_kwargs: optional `(input_shape, data_format, scale) ->
            dict` of arguments that depend on where it sits.
        conv_kwargs: optional `(input_shape, filters, strides,
            data_format) -> dict` for a block that replaces a convolution.

    Examples:

        >>> import keras
        >>> import keras_chattn
        >>> @keras.saving.register_keras_serializable(package="docs")
        ... class Gain(keras.layers.Layer):
        ...     def __init__(self, scale=1.0, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.scale = scale
        ...     def call(self, x):
        ...         return x * self.scale
        ...     def get_config(self):
        ...         return {**super().get_config(), "scale": self.scale}
        >>> keras_chattn.register_block(
        ...     "gain", Gain, "stage_input", {"scale": (0.5, 1.0)}
        ... )
        >>> model = keras_chattn.models.cifar_resnet(8, attention="gain")
        >>> [l.name for l in model.layers if l.name.endswith("attention")]
        ['conv2_attention', 'conv3_attention', 'conv4_attention']
        >>> keras_chattn.unregister_block("gain")
    """
    if (
        not isinstance(name, str)
        or not name
        or name != name.lower()
        or not name.replace("_", "").isalnum()
        or name == "none"
    ):
        raise ValueError(
            "name must be a lowercase registry name (letters, digits and "
            f"'_', not 'none'). Received: name={name!r}"
        )
    if name in registry.ATTENTION_LAYERS:
        raise ValueError(
            f"name {name!r} is taken (by "
            f"{registry.ATTENTION_LAYERS[name].__name__}); pick another or "
            "unregister_block it first."
        )
    if isinstance(block, keras.layers.Layer) or not callable(block):
        raise ValueError(
            "block must be a Layer class or a callable returning a new "
            f"layer. Received: block={block!r}"
        )
    if search_space is not None and not (
        isinstance(search_space, dict)
        and all(
            isinstance(values, (list, tuple)) and values
            for values in search_space.values()
        )
    ):
        raise ValueError(
            "search_space must be None or a dict of constructor argument -> "
            f"non-empty tuple of values. Received: search_space="
            f"{search_space!r}"
        )
    validation.boolean("takes_features", takes_features)
    block_table.register_placement(
        block, placement, takes_features, position_kwargs, conv_kwargs
    )
    registry.ATTENTION_LAYERS[name] = block
    if search_space:
        spaces.SEARCH_SPACES[name] = {
            key: tuple(values) for key, values in search_space.items()
        }


def unregister_block(name: str) -> None:
    """Removes a block `register_block` added (the built-in ones stay)."""
    block = registry.ATTENTION_LAYERS.get(name)
    if block is None or name in registry.BUILT_IN:
        raise ValueError(
            "name must be a block registered with register_block. "
            f"Received: name={name!r}"
        )
    del registry.ATTENTION_LAYERS[name]
    block_table.BLOCK_PLACEMENTS.pop(block, None)
    spaces.SEARCH_SPACES.pop(name, None)
