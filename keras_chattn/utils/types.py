"""Type aliases of the public signatures (what Keras itself accepts)."""

import os
from collections.abc import Callable
from collections.abc import Sequence

import keras

# A Keras activation name ("relu") or a callable.
ActivationLike = str | Callable
# An initializer name ("glorot_uniform") or instance.
InitializerLike = str | keras.initializers.Initializer
# A regularizer name or instance, or None for none.
RegularizerLike = str | keras.regularizers.Regularizer | None
# A file or folder path.
PathLike = str | os.PathLike
# One attention block for a builder: a registry name ("cbam"), a layer class
# or any callable returning a new layer, or None (or "none") for none.
AttentionLike = str | Callable[..., keras.layers.Layer] | None
# One block for every stage, or a sequence of one per stage.
AttentionArg = AttentionLike | Sequence[AttentionLike]
# The blocks' keyword arguments: one dict for every stage, or one per stage.
AttentionKwargs = dict | None | Sequence[dict | None]
# Where in a residual block ("standard", "pre", ...), or one per stage.
PositionArg = str | Sequence[str]
# A block in every k-th residual block of a stage, or one k per stage.
EveryArg = int | Sequence[int]
