"""Pictures of attention (matplotlib, the `plot` extra) and TensorBoard.

- `figures`: `spatial_maps`, `channel_excitation`, `cc_excitation`,
  `affinity`, `grad_cam_overlays`, `training_curves`, `trial_scores`, each
  returning a matplotlib Figure;
- `callback`: `AttentionImages`, attention overlays written to TensorBoard
  every epoch.

matplotlib is imported only when a figure is made.
"""

from keras_chattn.plotting.callback import AttentionImages
from keras_chattn.plotting.callback import overlays
from keras_chattn.plotting.figures import affinity
from keras_chattn.plotting.figures import cc_excitation
from keras_chattn.plotting.figures import channel_excitation
from keras_chattn.plotting.figures import grad_cam_overlays
from keras_chattn.plotting.figures import spatial_maps
from keras_chattn.plotting.figures import training_curves
from keras_chattn.plotting.figures import trial_scores

__all__ = [
    "AttentionImages",
    "affinity",
    "cc_excitation",
    "channel_excitation",
    "grad_cam_overlays",
    "overlays",
    "spatial_maps",
    "training_curves",
    "trial_scores",
]
