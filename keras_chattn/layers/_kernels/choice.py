"""`direct_forms()`: every speed path's rule picks the direct form."""

import contextlib
import contextvars

_DIRECT = contextvars.ContextVar("keras_chattn_direct_forms", default=False)


@contextlib.contextmanager
def direct_forms():
    """Within it, each speed path computes its direct form (the Keras
    layer or plain `keras.ops`), on every backend.

    Examples:

        >>> from keras_chattn.layers._kernels import direct_forms
        >>> from keras_chattn.layers._kernels.choice import forced_direct
        >>> with direct_forms():
        ...     forced_direct()
        True
        >>> forced_direct()
        False
    """
    token = _DIRECT.set(True)
    try:
        yield
    finally:
        _DIRECT.reset(token)


def forced_direct():
    """Whether `direct_forms()` is in force."""
    return _DIRECT.get()
