"""tf.data input pipelines for CIFAR-10 and CIFAR-100.

The only module of the package that needs TensorFlow (imported when a
pipeline is built, so `import keras_chattn` works without it).

Training augmentation is the standard CIFAR recipe (He et al., 2016): pad
each image with 4 zero pixels on every side, crop a random 32x32 window, flip
horizontally with probability 1/2. Random numbers come from stateless ops
seeded per image from a `tf.data.Dataset.random` stream, so a pipeline built
twice with the same `seed` yields the same batches, epoch after epoch.
"""

from keras_chattn.data import arrays
from keras_chattn.data import cifar_files
from keras_chattn.data import locate

PAD = 4


def tensorflow_available():
    """True when TensorFlow can be imported (it is, when it can)."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def import_tensorflow():
    try:
        import tensorflow as tf
    except ImportError:
        raise ImportError(
            "keras_chattn.data.cifar_dataset builds a tf.data pipeline and "
            "needs TensorFlow (`pip install tensorflow`). Without it, use "
            "keras_chattn.data.load_cifar_arrays with "
            "keras_chattn.data.CifarBatches, which run on every backend."
        ) from None
    return tf


def import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ImportError(
            "Reading CIFAR through tensorflow-datasets needs it installed: "
            "pip install 'keras_chattn[data]'. Or pass source='files' with "
            "data_dir pointing at the official CIFAR files."
        ) from None
    return tfds


def tfds_examples(layout, split, found):
    """(uint8 image, label) examples of a tfds data dir, in file order."""
    tfds = import_tfds()
    builder = tfds.builder(layout.name, data_dir=str(found.path))
    if not builder.is_prepared():
        builder.download_and_prepare()
    return builder.as_dataset(
        split=split, as_supervised=True, shuffle_files=False
    )


def _augment(tf, image, seed):
    seeds = tf.random.experimental.stateless_split(
        tf.stack([seed, tf.constant(0, tf.int64)]), num=2
    )
    padded = tf.pad(image, [[PAD, PAD], [PAD, PAD], [0, 0]])
    image = tf.image.stateless_random_crop(
        padded, size=cifar_files.IMAGE_SHAPE, seed=seeds[0]
    )
    return tf.image.stateless_random_flip_left_right(image, seed=seeds[1])


def cifar_dataset(
    name="cifar10",
    split="train",
    batch_size=128,
    augment=None,
    data_dir=None,
    source="auto",
    shuffle=None,
    seed=None,
    cache=True,
    limit=None,
    drop_remainder=False,
    data_format=None,
):
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

    Returns:
        A `tf.data.Dataset` of `(images, labels)` batches, with a known
        cardinality.

    Raises:
        DataNotFoundError: no data found and none could be downloaded.
        CifarFileError: a file is missing, truncated, corrupt or unsafe.

    Example:

    >>> from keras_chattn.data import cifar_dataset
    >>> train = cifar_dataset(
    ...     data_dir="../shared/data/cifar-10-batches-py", batch_size=32,
    ...     limit=64, seed=0)  # doctest: +SKIP
    >>> images, labels = next(iter(train))  # doctest: +SKIP
    >>> images.shape, labels.shape  # doctest: +SKIP
    (TensorShape([32, 32, 32, 3]), TensorShape([32]))
    """
    layout = arrays.check_name(name)
    arrays.check_split(split)
    batch_size = arrays.check_optional_positive_int("batch_size", batch_size)
    if batch_size is None:
        raise ValueError(
            "batch_size must be a positive integer. Received: batch_size=None"
        )
    limit = arrays.check_optional_positive_int("limit", limit)
    seed = _check_seed(seed)
    data_format = arrays.check_data_format(data_format)
    augment = _flag("augment", augment, split)
    shuffle = _flag("shuffle", shuffle, split)
    for argument, value in (
        ("cache", cache),
        ("drop_remainder", drop_remainder),
    ):
        _check_bool(argument, value)
    tf = import_tensorflow()
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
    mean = tf.constant(layout.mean, "float32")
    std = tf.constant(layout.std, "float32")

    def finish(image, label):
        image = (tf.cast(image, "float32") / 255.0 - mean) / std
        if data_format == "channels_first":
            image = tf.transpose(image, [2, 0, 1])
        return image, label

    if augment:
        randoms = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        )
        dataset = tf.data.Dataset.zip((dataset, randoms)).map(
            lambda example, random: finish(
                _augment(tf, example[0], random), example[1]
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _flag(argument, value, split):
    if value is None:
        return split == "train"
    return _check_bool(argument, value)


def _check_bool(argument, value):
    if not isinstance(value, bool):
        raise ValueError(
            f"{argument} must be True, False or (where allowed) None. "
            f"Received: {argument}={value!r}"
        )
    return value


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(
            "seed must be a non-negative integer or None. "
            f"Received: seed={seed!r}"
        )
    return seed
