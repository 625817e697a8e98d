"""A callback that writes attention overlays to TensorBoard every epoch."""

from collections.abc import Sequence

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_chattn.analysis.block_maps import attention_maps
from keras_chattn.plotting.figures import displayable
from keras_chattn.utils.environment import import_tensorflow
from keras_chattn.utils.types import PathLike

# Maps that are one value per position (after averaging over channels).
SPATIAL = ("spatial", "energy", "excitation", "attention", "context")


def overlays(images: ArrayLike, maps: ArrayLike) -> np.ndarray:
    """`images` (N, H, W, 3) blended with `maps` (N, h, w) as a red heat
    layer: uint8 (N, H, W, 3), the image dimmed where attention is low."""
    images = displayable(images)
    maps = np.asarray(maps, "float32")
    rows = np.arange(images.shape[1]) * maps.shape[1] // images.shape[1]
    cols = np.arange(images.shape[2]) * maps.shape[2] // images.shape[2]
    maps = maps[:, rows][:, :, cols]
    low = maps.min(axis=(1, 2), keepdims=True)
    high = maps.max(axis=(1, 2), keepdims=True)
    heat = (maps - low) / np.maximum(high - low, 1e-12)
    blended = 0.5 * images + 0.5 * np.stack(
        [heat, np.zeros_like(heat), 1.0 - heat], axis=-1
    )
    return (np.clip(blended, 0, 1) * 255).astype("uint8")


def spatial_view(maps):
    """One `(N, h, w)` map of a block: its first spatial-like map,
    averaged over channels when it has them; None for channel-only blocks."""
    for key in SPATIAL:
        if key in maps:
            value = np.asarray(maps[key])
            return value.mean(axis=-1) if value.ndim == 4 else value
    return None


class AttentionImages(keras.callbacks.Callback):
    """Writes, after every `every` epochs, each block's spatial map over a
    fixed set of images (`images`, e.g. eight validation images) to the
    TensorBoard logs in `log_dir` (tag `attention/<block>`).

    Needs TensorFlow (its `tf.summary`); view with `tensorboard --logdir`.

    Args:
        images: `(N, H, W, 3)` images to show, as the model takes them.
        log_dir: the TensorBoard folder (e.g. the recipe's `logs/`).
        display_images: what to draw under the maps (e.g. the images before
            normalisation); defaults to `images`, rescaled.
        layers: the block names to show; None for every block with a
            spatial map (CBAM, CC, BAM, SimAM, GC, ...).
        every: epochs between two writes. Defaults to 1.
    """

    def __init__(
        self,
        images: ArrayLike,
        log_dir: PathLike,
        display_images: ArrayLike | None = None,
        layers: Sequence[str] | None = None,
        every: int = 1,
    ) -> None:
        super().__init__()
        self.images = np.asarray(images)
        self.display_images = (
            self.images if display_images is None else display_images
        )
        self.layers = layers
        self.every = every
        self.writer = import_tensorflow(
            "AttentionImages"
        ).summary.create_file_writer(str(log_dir))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        tf = import_tensorflow("AttentionImages")
        maps = attention_maps(self.model, self.images, self.layers)
        with self.writer.as_default():
            for name, block in maps.items():
                view = spatial_view(block)
                if view is None:
                    continue
                tf.summary.image(
                    f"attention/{name}",
                    overlays(self.display_images, view),
                    step=epoch,
                    max_outputs=len(self.images),
                )
        self.writer.flush()
