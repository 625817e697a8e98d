"""Keras Tuner search over the attention blocks (needs the `tune` extra).

- `hypermodel`: `AttentionHyperModel`, whose space is each block's own
  `search_space`;
- `search`: the tuners, `search`, the trial table and plots.
"""

from keras_chattn.tuning.hypermodel import AttentionHyperModel
from keras_chattn.tuning.search import TUNERS
from keras_chattn.tuning.search import BayesianOptimization
from keras_chattn.tuning.search import Hyperband
from keras_chattn.tuning.search import RandomSearch
from keras_chattn.tuning.search import SearchResults
from keras_chattn.tuning.search import make_tuner
from keras_chattn.tuning.search import search
from keras_chattn.tuning.search import trial_rows
from keras_chattn.tuning.search import write_results

__all__ = [
    "AttentionHyperModel",
    "BayesianOptimization",
    "Hyperband",
    "RandomSearch",
    "SearchResults",
    "TUNERS",
    "make_tuner",
    "search",
    "trial_rows",
    "write_results",
]
