"""CIFAR batches from NumPy arrays for any Keras backend (no TensorFlow)."""

import math

import keras
import numpy as np

from keras_chattn.data import arrays
from keras_chattn.data import cifar_files
from keras_chattn.data.augmentation import augmentation_layers
from keras_chattn.utils import validation


class CifarBatches(keras.utils.PyDataset):
    """Shuffled, augmented, normalised CIFAR batches from NumPy arrays.

    The TensorFlow-free counterpart of `keras_chattn.data.cifar_dataset`, for
    `model.fit` on the JAX or PyTorch backend where TensorFlow is not
    installed: augmentation runs through Keras preprocessing layers
    (`augmentation_layers`), so on the backend in use.

    Args:
        images: uint8 `(N, 32, 32, 3)` images, e.g. from
            `keras_chattn.data.load_cifar_arrays`.
        labels: int `(N,)` labels.
        batch_size: images per batch. Defaults to 128.
        augment: random shift and flip. Defaults to False.
        shuffle: a new order every epoch. Defaults to False.
        seed: integer seed of the order and the augmentation. Defaults to
            None.
        name: "cifar10" or "cifar100", for the normalisation statistics.
            Defaults to "cifar10".
        data_format: "channels_last" or "channels_first". Defaults to None:
            `keras.config.image_data_format()`.
        **kwargs: `keras.utils.PyDataset` arguments (`workers`, ...).

    Example:

    >>> import numpy as np
    >>> from keras_chattn.data import CifarBatches
    >>> images = np.zeros((10, 32, 32, 3), "uint8")
    >>> batches = CifarBatches(images, np.arange(10), batch_size=4, seed=0)
    >>> len(batches), batches[2][0].shape
    (3, (2, 32, 32, 3))
    """

    def __init__(
        self,
        images,
        labels,
        batch_size=128,
        augment=False,
        shuffle=False,
        seed=None,
        name="cifar10",
        data_format=None,
        **kwargs,
    ):
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
        self._rng = np.random.default_rng(seed)
        self._augmenter = augmentation_layers(seed) if augment else None
        self._order = np.arange(len(self.labels))
        if shuffle:
            self._rng.shuffle(self._order)

    def __len__(self):
        return math.ceil(len(self.labels) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(
                f"batch index {index} out of range for {len(self)} batches"
            )
        chosen = self._order[
            index * self.batch_size : (index + 1) * self.batch_size
        ]
        images = self.images[chosen].astype("float32")
        if self._augmenter is not None:
            images = keras.ops.convert_to_numpy(
                self._augmenter(images, training=True)
            )
        images = arrays.normalize(images, self.name)
        if self.data_format == "channels_first":
            images = images.transpose(0, 3, 1, 2)
        return images, self.labels[chosen]

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)
