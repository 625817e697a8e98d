"""Keras Tuner search over the attention blocks (needs the `tune` extra).

- `spaces`: each block's search space (`SEARCH_SPACES`; no Keras Tuner);
- `hypermodel`: `AttentionHyperModel`, whose space is each block's own,
  where it goes and in which stages;
- `descriptions`: a trial's values as one readable line, and back
  (`describe`, `parse_line`; no Keras Tuner);
- `tuners`: `search` on keras-tuner's own tuners, the trial table.

Without Keras Tuner, `keras_chattn.tuning.spaces` still imports; the names
below then raise the ImportError that says how to install it.
"""

from keras_chattn.tuning.descriptions import describe
from keras_chattn.tuning.descriptions import parse_line

try:
    from keras_chattn.tuning.hypermodel import AttentionHyperModel
    from keras_chattn.tuning.tuners import TUNERS
    from keras_chattn.tuning.tuners import SearchResults
    from keras_chattn.tuning.tuners import make_tuner
    from keras_chattn.tuning.tuners import search
    from keras_chattn.tuning.tuners import trial_rows
    from keras_chattn.tuning.tuners import write_results
except ImportError as error:  # pragma: no cover - without the tune extra
    _MISSING = error

    def __getattr__(name):
        if name in __all__:
            raise ImportError(str(_MISSING)) from None
        raise AttributeError(
            f"module 'keras_chattn.tuning' has no attribute {name!r}"
        )


__all__ = [
    "AttentionHyperModel",
    "SearchResults",
    "TUNERS",
    "describe",
    "make_tuner",
    "parse_line",
    "search",
    "trial_rows",
    "write_results",
]
