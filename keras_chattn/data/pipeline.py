"""tf.data input pipelines for CIFAR-10 and CIFAR-100.

The only module of the package that builds TensorFlow graphs (TensorFlow is
imported when a pipeline is built, so `import keras_chattn` works without
it).

Training augmentation is the standard CIFAR recipe
(`keras_chattn.data.augmentation`). Random numbers come from stateless ops
seeded per image, so a pipeline built twice with the same `seed` yields the
same batches, epoch after epoch; with `epochs=` each epoch's order and
augmentation depend on the seed and the epoch's index alone, which is what
makes a resumed run equal to an uninterrupted one.
"""

from typing import TYPE_CHECKING

from keras_chattn.data import arrays
from keras_chattn.data import cifar_files
from keras_chattn.data import locate
from keras_chattn.data.augmentation import tf_augment
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
    - "files": the official "python version" files (read by a safe
      unpickler that only rebuilds arrays);
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
    mean = tf.constant(layout.mean, "float32")
    std = tf.constant(layout.std, "float32")

    def finish(image, label):
        image = (tf.cast(image, "float32") / 255.0 - mean) / std
        if data_format == "channels_first":
            image = tf.transpose(image, [2, 0, 1])
        return image, label

    def batched(dataset):
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
        return dataset.prefetch(tf.data.AUTOTUNE)

    if epochs is not None:
        images, labels = arrays.load_cifar_arrays(
            name, split, data_dir=data_dir, source=source, limit=limit
        )
        if seed is None:
            seed = int(tf.random.uniform([], 0, 2**31 - 1, tf.int64))
        examples = (tf.constant(images), tf.constant(labels))

        def one_epoch(epoch):
            dataset = _epoch(tf, examples, seed, epoch, shuffle)
            return _augment_or_finish(tf, dataset, augment, finish).batch(
                batch_size, drop_remainder=drop_remainder
            )

        per_epoch = len(labels) // batch_size
        if not drop_remainder and len(labels) % batch_size:
            per_epoch += 1
        dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
        dataset = dataset.apply(
            tf.data.experimental.assert_cardinality(
                per_epoch * (epochs - first_epoch)
            )
        )
        return dataset.prefetch(tf.data.AUTOTUNE)
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
    if augment:
        randoms = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        )
        dataset = tf.data.Dataset.zip((dataset, randoms)).map(
            lambda example, random: finish(
                tf_augment(
                    tf, example[0], tf.stack([random, tf.constant(0, tf.int64)])
                ),
                example[1],
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
    return batched(dataset)


def _epoch(tf, examples, seed, epoch, shuffle):
    """The (image, label) tensors `examples` in the order of epoch `epoch`,
    each with its augmentation seed: functions of (`seed`, `epoch`) only.

    Stateless ops throughout, so nothing depends on TensorFlow's global
    seed or on how often this process has iterated the dataset.
    """
    images, labels = examples
    # Distinct for every (seed, epoch) pair while epoch < 2**20.
    epoch_seed = tf.constant(seed, tf.int64) * 2**20 + epoch
    count = tf.shape(labels, out_type=tf.int64)[0]
    order = tf.range(count)
    if shuffle:
        keys = tf.random.stateless_uniform(
            [count], seed=tf.stack([epoch_seed, tf.constant(-1, tf.int64)])
        )
        order = tf.argsort(keys, stable=True)
    return (
        tf.data.Dataset.from_tensor_slices(tf.cast(order, tf.int64))
        .enumerate()
        .map(
            lambda position, index: (
                (tf.gather(images, index), tf.gather(labels, index)),
                tf.stack([epoch_seed, position]),
            )
        )
    )


def _augment_or_finish(tf, dataset, augment, finish):
    def one(example, image_seed):
        image, label = example
        if augment:
            image = tf_augment(tf, image, image_seed)
        return finish(image, label)

    return dataset.map(
        one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def _flag(argument, value, split):
    """`value`, or for None its default: True for "train" only."""
    value = validation.optional_boolean(argument, value)
    return split == "train" if value is None else value
