"""Type aliases of the public signatures (what Keras itself accepts)."""

from collections.abc import Callable

import keras

# A Keras activation name ("relu") or a callable.
ActivationLike = str | Callable
# An initializer name ("glorot_uniform") or instance.
InitializerLike = str | keras.initializers.Initializer
# A regularizer name or instance, or None for none.
RegularizerLike = str | keras.regularizers.Regularizer | None
