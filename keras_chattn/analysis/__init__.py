"""Analysis tools from the papers: channel diversity, excitation statistics.

- `diversity`: the C3 poster's channel diversity and a per-block report;
- `excitation`: the CC-block paper's tilt, magnitude and class separability;
- `attention_maps`: every block's maps in one pass (`attention_maps`), and
  the mean channel weights per class (`class_excitation`);
- `grad_cam`: Grad-CAM heat maps on any backend.
"""

from keras_chattn.analysis.attention_maps import attention_layers
from keras_chattn.analysis.attention_maps import attention_maps
from keras_chattn.analysis.attention_maps import class_excitation
from keras_chattn.analysis.diversity import channel_diversity
from keras_chattn.analysis.diversity import diversity_report
from keras_chattn.analysis.excitation import class_separability
from keras_chattn.analysis.excitation import excitation_statistics
from keras_chattn.analysis.grad_cam import grad_cam

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
