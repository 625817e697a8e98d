"""Analysis tools from the papers: channel diversity, ..."""

from keras_chattn.analysis.diversity import channel_diversity
from keras_chattn.analysis.diversity import diversity_report

__all__ = ["channel_diversity", "diversity_report"]
