"""Names of the attention blocks, and turning a name or factory into a layer.

Model builders, tuners and tests all go through this table, so a block
registered here is available (and tested) everywhere the day it is added.
"""

from collections.abc import Callable
from typing import Any

import keras

from keras_chattn.layers.bam import BAM
from keras_chattn.layers.bridge_attention import BridgeAttention
from keras_chattn.layers.cbam import CBAM
from keras_chattn.layers.concurrent_squeeze_excite import (
    ConcurrentSqueezeExcite,
)
from keras_chattn.layers.contextual_conv import ContextualConv
from keras_chattn.layers.coordinate_attention import CoordinateAttention
from keras_chattn.layers.cross_channel_comm import CrossChannelComm
from keras_chattn.layers.dual_attention import DualAttention
from keras_chattn.layers.eca import ECA
from keras_chattn.layers.effective_squeeze_excite import EffectiveSqueezeExcite
from keras_chattn.layers.efficient_local_attention import (
    EfficientLocalAttention,
)
from keras_chattn.layers.gated_channel_transform import GatedChannelTransform
from keras_chattn.layers.gather_excite import GatherExcite
from keras_chattn.layers.global_context import GlobalContext
from keras_chattn.layers.multi_spectral_attention import MultiSpectralAttention
from keras_chattn.layers.non_local import NonLocal
from keras_chattn.layers.selective_kernel import SelectiveKernel
from keras_chattn.layers.simam import SimAM
from keras_chattn.layers.spatial_group_enhance import SpatialGroupEnhance
from keras_chattn.layers.split_attention import SplitAttention
from keras_chattn.layers.squeeze_excite import SqueezeExcite
from keras_chattn.layers.triplet_attention import TripletAttention
from keras_chattn.utils.types import AttentionLike

ATTENTION_LAYERS = {
    "se": SqueezeExcite,
    "cbam": CBAM,
    "c3": CrossChannelComm,
    "cc": ContextualConv,
    "ba": BridgeAttention,
    "eca": ECA,
    "coord": CoordinateAttention,
    "gc": GlobalContext,
    "sk": SelectiveKernel,
    "triplet": TripletAttention,
    "bam": BAM,
    "simam": SimAM,
    "danet": DualAttention,
    "ese": EffectiveSqueezeExcite,
    "ge": GatherExcite,
    "ela": EfficientLocalAttention,
    "nl": NonLocal,
    "scse": ConcurrentSqueezeExcite,
    "gct": GatedChannelTransform,
    "fca": MultiSpectralAttention,
    "sge": SpatialGroupEnhance,
    "splat": SplitAttention,
}
# The blocks this package ships (`keras_chattn.register_block` adds more).
BUILT_IN = frozenset(ATTENTION_LAYERS)


def get_attention(
    spec: AttentionLike,
) -> Callable[..., keras.layers.Layer] | None:
    """Resolves an attention spec to a layer class or factory, or None.

    Args:
        spec: `None` or `"none"` (no attention); a registry name from
            `ATTENTION_LAYERS` (case-insensitive); a `keras.layers.Layer`
            subclass; or any callable returning a new layer when called with
            keyword arguments. A layer instance is refused: a block placed in
            many positions must be a new layer (new weights) at each.

    Returns:
        The class or callable, or `None`.

    Examples:

        >>> import keras_chattn
        >>> keras_chattn.get_attention("SE").__name__
        'SqueezeExcite'
        >>> keras_chattn.get_attention("none") is None
        True
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "none":
            return None
        if key not in ATTENTION_LAYERS:
            raise ValueError(
                f"Unknown attention block {spec!r}. attention must be None, "
                f"'none', one of {sorted(ATTENTION_LAYERS)}, a Layer class or "
                f"a callable returning a layer. Received: attention={spec!r}"
            )
        return ATTENTION_LAYERS[key]
    if isinstance(spec, keras.layers.Layer):
        raise ValueError(
            "attention must be a Layer class or a factory, not a layer "
            "instance: one instance placed in several blocks would share its "
            f"weights between them. Received: attention={spec!r}; pass "
            f"{type(spec).__name__} (the class) or a function returning a "
            "new layer instead."
        )
    if callable(spec):
        return spec
    raise ValueError(
        f"attention must be None, a name from {sorted(ATTENTION_LAYERS)}, a "
        f"Layer class or a callable. Received: attention={spec!r} of type "
        f"{type(spec).__name__}"
    )


def create_attention(
    spec: AttentionLike, **kwargs: Any
) -> keras.layers.Layer | None:
    """Returns a new attention layer for `spec` (see `get_attention`), or None.

    Args:
        spec: anything `get_attention` accepts.
        **kwargs: passed to the class or factory (e.g. `reduction=8`,
            `name="conv2_block1_attention"`).

    Examples:

        >>> import keras_chattn
        >>> layer = keras_chattn.create_attention("cbam", reduction=8)
        >>> type(layer).__name__, layer.reduction
        ('CBAM', 8)
    """
    factory = get_attention(spec)
    if factory is None:
        return None
    layer = factory(**kwargs)
    if not isinstance(layer, keras.layers.Layer):
        raise ValueError(
            "attention factory must return a keras.layers.Layer. "
            f"Received: attention={spec!r}, which returned {layer!r}"
        )
    return layer
