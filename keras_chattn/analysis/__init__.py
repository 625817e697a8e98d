"""Analysis tools from the papers: channel diversity, excitation statistics.

- `diversity`: the C3 poster's channel diversity and a per-block report;
- `excitation`: the CC-block paper's tilt, magnitude and class separability.
"""

from keras_chattn.analysis.diversity import channel_diversity
from keras_chattn.analysis.diversity import diversity_report
from keras_chattn.analysis.excitation import class_separability
from keras_chattn.analysis.excitation import excitation_statistics

__all__ = [
    "channel_diversity",
    "class_separability",
    "diversity_report",
    "excitation_statistics",
]
