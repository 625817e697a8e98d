"""tf.data input pipelines for CIFAR-10 and CIFAR-100.

The only module of the package that builds TensorFlow graphs (TensorFlow is
imported when a pipeline is built, so `import keras_chattn` works without
it).

Batches are made by the same NumPy code as the TensorFlow-free
`CifarBatches` (`keras_chattn.data.batches.epoch_batch`, with the one
augmentation of `keras_chattn.data.augmentation`), run inside tf.data by
`tf.numpy_function`: with `epochs=` each epoch's order and augmentation
depend on the seed and the epoch's index alone, so a resumed run equals an
uninterrupted one and both pipelines serve the same batches.
"""

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from keras_chattn.data import arrays
from keras_chattn.data import batches
from keras_chattn.data import cifar_files
from keras_chattn.data import locate
from keras_chattn.data.tfds_source import tfds_examples
from keras_chattn.utils import validation
from keras_chattn.utils.environment import import_tensorflow
from keras_chattn.utils.types import PathLike

if TYPE_CHECKING:
    import tensorflow as tf


def cifar_dataset(
    name: str = "cifar10",
    split: str = "train",
    batch_size: int = 128,
    augment: bool | None = None,
    data_dir: PathLike | None = None,
    source: str = "auto",
    shuffle: bool | None = None,
    seed: int | None = None,
    cache: bool = True,
    limit: int | None = None,
    drop_remainder: bool = False,
    data_format: str | None = None,
    epochs: int | None = None,
    first_epoch: int = 0,
) -> "tf.data.Dataset":
    """A batched, prefetching `tf.data.Dataset` of CIFAR images and labels.

    Images are float32, scaled to [0, 1] and normalised per channel with the
    training set's statistics (`keras_chattn.data.normalize`); labels are
    int32 class indices (use a sparse loss).

    Where the data comes from (`source`):
    - "files": the official "python version" files (read without
      unpickling: `keras_chattn.data.pickle_reader`);
    - "tfds": tensorflow-datasets, which downloads and prepares the dataset
      when it can;
    - "auto": `data_dir`, then `$KERAS_CHATTN_DATA_DIR` (either holding the
      official files or a prepared tfds copy), then the tfds data dir, then
      the Keras datasets cache, and only then a download of the official
      files. Offline with nothing local, this fails in seconds with a
      message saying where to put the data.

    Args:
        name: "cifar10" or "cifar100" (fine labels). Defaults to "cifar10".
        split: "train" or "test". Defaults to "train".
        batch_size: images per batch. Defaults to 128.
        augment: random crop of the 4-pixel zero-padded image and horizontal
            flip. Defaults to None: True for "train", False for "test".
        data_dir: folder to look in first. Defaults to None.
        source: "auto", "files" or "tfds". Defaults to "auto".
        shuffle: reshuffle every epoch. Defaults to None: True for "train",
            False for "test".
        seed: integer seed of the shuffle and the augmentation; the same seed
            gives the same batches. Defaults to None (not reproducible).
        cache: keep the decoded images in memory after the first epoch.
            Defaults to True.
        limit: keep only the first `limit` images of the split (before
            shuffling). Defaults to None (all).
        drop_remainder: drop the last, smaller batch. Defaults to False.
        data_format: "channels_last" (NHWC) or "channels_first" (NCHW).
            Defaults to None: `keras.config.image_data_format()`.
        epochs: None (the default), or the number of epochs of the run: the
            dataset then holds epochs `first_epoch` ... `epochs - 1` one
            after the other, each shuffled and augmented as a function of
            `seed` and its index only, so a run resumed at epoch k (with
            `first_epoch=k`) sees exactly what an uninterrupted run saw.
            Pass `steps_per_epoch=dataset.cardinality() // (epochs -
            first_epoch)` to `fit`. Without it, the dataset is one epoch
            that reshuffles each time it is iterated, which depends on how
            often this process has iterated it.
        first_epoch: with `epochs`, the index of the first epoch held.
            Defaults to 0.

    Returns:
        A `tf.data.Dataset` of `(images, labels)` batches, with a known
        cardinality.

    Raises:
        DataNotFoundError: no data found and none could be downloaded.
        CifarFileError: a file is missing, truncated, corrupt or unsafe.

    Examples:

        >>> from keras_chattn.data import cifar_dataset
        >>> train = cifar_dataset(
        ...     data_dir="../shared/data/cifar-10-batches-py", batch_size=32,
        ...     limit=64, seed=0)  # doctest: +SKIP
        >>> images, labels = next(iter(train))  # doctest: +SKIP
        >>> images.shape, labels.shape  # doctest: +SKIP
        (TensorShape([32, 32, 32, 3]), TensorShape([32]))
    """
    layout = cifar_files.layout(name)
    cifar_files.check_split(split)
    batch_size = validation.positive_int("batch_size", batch_size)
    limit = validation.optional_positive_int("limit", limit)
    seed = validation.non_negative_int("seed", seed, optional=True)
    epochs = validation.optional_positive_int("epochs", epochs)
    first_epoch = validation.non_negative_int("first_epoch", first_epoch)
    if epochs is not None and first_epoch > epochs:
        raise ValueError(
            f"first_epoch must be at most epochs={epochs}. Received: "
            f"first_epoch={first_epoch}"
        )
    data_format = validation.data_format(data_format)
    augment = _flag("augment", augment, split)
    shuffle = _flag("shuffle", shuffle, split)
    validation.boolean("cache", cache)
    validation.boolean("drop_remainder", drop_remainder)
    tf = import_tensorflow("keras_chattn.data.cifar_dataset")
    if epochs is not None:
        images, labels = arrays.load_cifar_arrays(
            name, split, data_dir=data_dir, source=source, limit=limit
        )
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        return _epochs_dataset(
            tf,
            images,
            labels,
            _Batching(batch_size, augment, shuffle, seed, name, data_format),
            first_epoch,
            epochs,
            drop_remainder,
        )
    found = locate.find(layout, data_dir, source)
    if found.kind == "files":
        images, labels = cifar_files.read_split(found.path, layout, split)
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        count = len(labels)
    else:
        dataset = tfds_examples(layout, split, found)
        if limit is not None:
            dataset = dataset.take(limit)
        dataset = dataset.map(
            lambda image, label: (image, tf.cast(label, "int32"))
        )
        count = None
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(
            count or 50000, seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    batching = _Batching(batch_size, augment, shuffle, seed, name, data_format)
    dataset = tf.data.Dataset.zip((dataset, randoms)).map(
        lambda batch, random: _served(
            tf, batching.finish, [batch[0], batch[1], random], data_format
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass(frozen=True)
class _Batching:
    """How a pipeline serves batches (see `batches.epoch_batch`)."""

    batch_size: int
    augment: bool
    shuffle: bool
    seed: int | None
    name: str
    data_format: str

    def finish(self, images, labels, random):
        """A shuffled stream's batch: augmented from the generator of
        `random` (a tf.data random number), normalised."""
        order = np.arange(len(labels))
        rng = np.random.default_rng(int(random) % 2**63)
        seed = int(rng.integers(2**62))
        return batches.epoch_batch(
            images, labels, order, seed, 0, 0, len(labels), self.augment,
            self.name, self.data_format,
        )  # fmt: skip


def _served(tf, function, inputs, data_format):
    """`function` (NumPy) on `inputs` inside tf.data, with its shapes."""
    images, labels = tf.numpy_function(
        function, inputs, (tf.float32, tf.int32), stateful=False
    )
    height, width, channels = cifar_files.IMAGE_SHAPE
    if data_format == "channels_first":
        images.set_shape((None, channels, height, width))
    else:
        images.set_shape((None, height, width, channels))
    labels.set_shape((None,))
    return images, labels


def _epochs_dataset(
    tf, images, labels, batching, first_epoch, epochs, drop_remainder
):
    """Epochs `first_epoch` ... `epochs - 1`, each batch made by
    `batches.epoch_batch` (as `CifarBatches` makes it) from the seed, the
    epoch and the batch's index alone."""
    count = len(labels)
    per_epoch = count // batching.batch_size
    if not drop_remainder and count % batching.batch_size:
        per_epoch += 1
    orders = {}

    def make(epoch, index):
        epoch, index = int(epoch), int(index)
        if epoch not in orders:
            orders.clear()  # one epoch's order at a time
            orders[epoch] = batches.epoch_order(
                count, batching.seed, epoch, batching.shuffle
            )
        return batches.epoch_batch(
            images, labels, orders[epoch], batching.seed, epoch, index,
            batching.batch_size, batching.augment, batching.name,
            batching.data_format,
        )  # fmt: skip

    pairs = tf.data.Dataset.range(first_epoch, epochs).flat_map(
        lambda epoch: tf.data.Dataset.range(per_epoch).map(
            lambda index: (epoch, index)
        )
    )
    # One batch at a time, in order: `make` keeps one epoch's order.
    dataset = pairs.map(
        lambda epoch, index: _served(
            tf, make, [epoch, index], batching.data_format
        )
    )
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(
            per_epoch * (epochs - first_epoch)
        )
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _flag(argument, value, split):
    """`value`, or for None its default: True for "train" only."""
    value = validation.optional_boolean(argument, value)
    return split == "train" if value is None else value
