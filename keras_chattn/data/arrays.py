"""CIFAR as NumPy arrays, with no TensorFlow needed for the official files."""

import numpy as np
from numpy.typing import ArrayLike

from keras_chattn.data import cifar_files
from keras_chattn.data import locate
from keras_chattn.data import tfds_source
from keras_chattn.utils import validation
from keras_chattn.utils.types import PathLike


def normalize(images: ArrayLike, name: str = "cifar10") -> np.ndarray:
    """uint8 NHWC images to float32, scaled to [0, 1] then per channel.

    Uses the dataset's training-set channel means and standard deviations.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.data import normalize
        >>> images = np.full((1, 32, 32, 3), 255, "uint8")
        >>> normalize(images)[0, 0, 0].round(3)
        array([2.059, 2.126, 2.116], dtype=float32)
    """
    layout = cifar_files.layout(name)
    mean = np.asarray(layout.mean, "float32")
    std = np.asarray(layout.std, "float32")
    return (np.asarray(images, "float32") / 255.0 - mean) / std


def _tfds_arrays(layout, split, found):
    dataset = tfds_source.tfds_examples(layout, split, found)
    images, labels = [], []
    for image, label in dataset.batch(4096).as_numpy_iterator():
        images.append(image)
        labels.append(label)
    return np.concatenate(images), np.concatenate(labels).astype("int32")


def load_cifar_arrays(
    name: str = "cifar10",
    split: str = "train",
    data_dir: PathLike | None = None,
    source: str = "auto",
    limit: int | None = None,
    normalized: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One split of CIFAR-10 or CIFAR-100 as NumPy arrays.

    Reading the official files needs neither TensorFlow nor
    tensorflow-datasets, so this feeds training on the JAX and PyTorch
    backends (see `keras_chattn.data.CifarBatches` for augmentation there).
    The data is found as `keras_chattn.data.cifar_dataset` documents.

    Args:
        name: "cifar10" or "cifar100" (fine labels).
        split: "train" or "test".
        data_dir: folder to look in first: the official files' folder (e.g.
            `cifar-10-batches-py`), its parent, or a tensorflow-datasets data
            dir. Defaults to None (search the usual places).
        source: "auto", "files" or "tfds". Defaults to "auto".
        limit: keep only the first `limit` images. Defaults to None (all).
        normalized: return float32 images scaled and normalised per channel
            instead of uint8. Defaults to False.

    Returns:
        `(images, labels)`: `(N, 32, 32, 3)` uint8 (or float32) and int32
        `(N,)` arrays.

    Raises:
        DataNotFoundError: no data found and none could be downloaded.
        CifarFileError: a file is missing, truncated, corrupt or unsafe.

    Examples:

        >>> from keras_chattn.data import load_cifar_arrays
        >>> x, y = load_cifar_arrays(
        ...     "cifar10", "test",
        ...     data_dir="../shared/data/cifar-10-batches-py",
        ...     limit=8)  # doctest: +SKIP
        >>> x.shape, x.dtype, y.dtype  # doctest: +SKIP
        ((8, 32, 32, 3), dtype('uint8'), dtype('int32'))
    """
    layout = cifar_files.layout(name)
    cifar_files.check_split(split)
    limit = validation.optional_positive_int("limit", limit)
    found = locate.find(layout, data_dir, source)
    if found.kind == "files":
        images, labels = cifar_files.read_split(found.path, layout, split)
    else:
        images, labels = _tfds_arrays(layout, split, found)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if normalized:
        images = normalize(images, name)
    return images, labels
