"""Analysis tools from the papers: channel diversity, excitation statistics.

- `diversity`: the C3 poster's channel diversity and a per-block report;
- `excitation`: the CC-block paper's tilt, magnitude and class separability;
- `block_maps`: every block's maps in one pass (`attention_maps`), and
  the mean channel weights per class (`class_excitation`);
- `class_activation`: Grad-CAM heat maps on any backend (`grad_cam`);
- `inputs`: the checks of what these functions are given.
"""

from keras_chattn.analysis.block_maps import attention_layers
from keras_chattn.analysis.block_maps import attention_maps
from keras_chattn.analysis.block_maps import class_excitation
from keras_chattn.analysis.class_activation import grad_cam
from keras_chattn.analysis.diversity import channel_diversity
from keras_chattn.analysis.diversity import diversity_report
from keras_chattn.analysis.excitation import class_separability
from keras_chattn.analysis.excitation import excitation_statistics

__all__ = [
    "attention_layers",
    "attention_maps",
    "class_excitation",
    "grad_cam",
    "channel_diversity",
    "class_separability",
    "diversity_report",
    "excitation_statistics",
]
