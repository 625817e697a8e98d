"""CIFAR batches from NumPy arrays for any Keras backend (no TensorFlow)."""

import math
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_chattn.data import arrays
from keras_chattn.data import augmentation
from keras_chattn.data import cifar_files
from keras_chattn.utils import validation


class CifarBatches(keras.utils.PyDataset):
    """Shuffled, augmented, normalised CIFAR batches from NumPy arrays.

    The TensorFlow-free counterpart of `keras_chattn.data.cifar_dataset`, for
    `model.fit` on the JAX or PyTorch backend where TensorFlow is not
    installed: augmentation (pad, crop, flip) runs in NumPy.

    An epoch's order and augmentation depend only on `seed` and the epoch's
    index, never on what the process did before: the batches count epochs
    from `first_epoch` (one more at every `on_epoch_end`), so a run resumed
    at epoch k with `first_epoch=k` sees what an uninterrupted run saw at
    epoch k.

    Args:
        images: uint8 `(N, 32, 32, 3)` images, e.g. from
            `keras_chattn.data.load_cifar_arrays`.
        labels: int `(N,)` labels.
        batch_size: images per batch. Defaults to 128.
        augment: random shift and flip. Defaults to False.
        shuffle: a new order every epoch. Defaults to False.
        seed: integer seed of the order and the augmentation. Defaults to
            None (a fresh seed: not reproducible).
        first_epoch: index of the epoch the first batches belong to.
            Defaults to 0.
        name: "cifar10" or "cifar100", for the normalisation statistics.
            Defaults to "cifar10".
        data_format: "channels_last" or "channels_first". Defaults to None:
            `keras.config.image_data_format()`.
        **kwargs: `keras.utils.PyDataset` arguments (`workers`, ...).

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.data import CifarBatches
        >>> images = np.zeros((10, 32, 32, 3), "uint8")
        >>> batches = CifarBatches(images, np.arange(10), batch_size=4, seed=0)
        >>> len(batches), batches[2][0].shape
        (3, (2, 32, 32, 3))
    """

    def __init__(
        self,
        images: ArrayLike,
        labels: ArrayLike,
        batch_size: int = 128,
        augment: bool = False,
        shuffle: bool = False,
        seed: int | None = None,
        name: str = "cifar10",
        data_format: str | None = None,
        first_epoch: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        images = np.asarray(images)
        labels = np.asarray(labels)
        if images.ndim != 4 or images.shape[1:] != (32, 32, 3):
            raise ValueError(
                "images must be an array of shape (N, 32, 32, 3) (channels "
                f"last, unnormalised). Received: images.shape={images.shape}"
            )
        if labels.shape != (images.shape[0],):
            raise ValueError(
                f"labels must have shape ({images.shape[0]},), one per image. "
                f"Received: labels.shape={labels.shape}"
            )
        self.images = images
        self.labels = labels.astype("int32")
        self.batch_size = validation.positive_int("batch_size", batch_size)
        self.augment = validation.boolean("augment", augment)
        self.shuffle = validation.boolean("shuffle", shuffle)
        self.name = cifar_files.layout(name).name
        self.data_format = validation.data_format(data_format)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        self.seed = validation.non_negative_int("seed", seed)
        self.epoch = validation.non_negative_int("first_epoch", first_epoch)
        self._order = self._epoch_order()

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(
                f"batch index {index} out of range for {len(self)} batches"
            )
        return epoch_batch(
            self.images,
            self.labels,
            self._order,
            self.seed,
            self.epoch,
            index,
            self.batch_size,
            self.augment,
            self.name,
            self.data_format,
        )

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._epoch_order()

    def _epoch_order(self):
        return epoch_order(
            len(self.labels), self.seed, self.epoch, self.shuffle
        )


def epoch_order(count, seed, epoch, shuffle):
    """The order of the images in epoch `epoch`: a permutation drawn from
    (`seed`, `epoch`) alone, or 0 ... count - 1 without `shuffle`."""
    if not shuffle:
        return np.arange(count)
    return np.random.default_rng([seed, epoch, 0]).permutation(count)


def epoch_batch(
    images,
    labels,
    order,
    seed,
    epoch,
    index,
    batch_size,
    augment,
    name,
    data_format,
):
    """Batch `index` of the epoch `epoch` whose image order is `order`:
    augmented (`keras_chattn.data.augmentation`), normalised, in
    `data_format`. What both pipelines serve."""
    chosen = order[index * batch_size : (index + 1) * batch_size]
    batch = images[chosen]
    if augment:
        batch = augmentation.augment(
            batch, augmentation.batch_generator(seed, epoch, index)
        )
    batch = arrays.normalize(batch, name)
    if data_format == "channels_first":
        batch = batch.transpose(0, 3, 1, 2)
    return batch, labels[chosen]
