"""Reads the official CIFAR-10 and CIFAR-100 "python version" files.

NumPy only: nothing here imports TensorFlow, so the arrays can feed training on
any Keras backend.

The files are Python pickles. They are never unpickled: their opcodes are
walked by `keras_chattn.data.pickle_reader`, which accepts only what the
official files hold and builds the arrays from their byte payloads, so a
tampered file cannot run code, recurse or allocate more than its size: it
is refused with a `CifarFileError` that names it. Truncated or corrupt
files, and files with the wrong content, are refused the same way.

Reference: A. Krizhevsky, "Learning Multiple Layers of Features from Tiny
Images", 2009 (https://www.cs.toronto.edu/~kriz/cifar.html).
"""

import dataclasses
import pathlib
import warnings

import numpy as np

from keras_chattn.data import pickle_reader
from keras_chattn.utils import validation

IMAGE_SHAPE = (32, 32, 3)
# The largest official file (CIFAR-100 `train`, 50,000 images) is about
# 160 MB; anything far larger is not a CIFAR file and is not read.
MAX_FILE_BYTES = 512 * 1024 * 1024
PIXELS = 32 * 32 * 3


@dataclasses.dataclass(frozen=True)
class CifarLayout:
    """Where one dataset's files are and what they hold."""

    name: str
    folder: str
    train_files: tuple
    test_files: tuple
    label_key: bytes
    classes: int
    url: str
    sha256: str
    mean: tuple
    std: tuple

    def files(self, split):
        return self.train_files if split == "train" else self.test_files


LAYOUTS = {
    "cifar10": CifarLayout(
        name="cifar10",
        folder="cifar-10-batches-py",
        train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
        test_files=("test_batch",),
        label_key=b"labels",
        classes=10,
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        sha256=(
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
        ),
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
    ),
    "cifar100": CifarLayout(
        name="cifar100",
        folder="cifar-100-python",
        train_files=("train",),
        test_files=("test",),
        label_key=b"fine_labels",
        classes=100,
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        sha256=(
            "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
        ),
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
    ),
}
SPLITS = ("train", "test")


def layout(name):
    """The `CifarLayout` of "cifar10" or "cifar100", or a ValueError."""
    return LAYOUTS[validation.choice("name", name, LAYOUTS, ordered=True)]


def check_split(split):
    """`split` if it is "train" or "test", or a ValueError."""
    return validation.choice("split", split, SPLITS, ordered=True)


class CifarFileError(ValueError):
    """A CIFAR file is missing, truncated, corrupt or not a CIFAR file."""


def read_batch(path, layout):
    """Reads one batch file.

    Args:
        path: the file (`data_batch_1`, `test_batch`, `train`, ...).
        layout: the dataset's `CifarLayout` (label key and class count).

    Returns:
        `(images, labels)`: uint8 `(N, 32, 32, 3)` and int32 `(N,)`.

    Raises:
        CifarFileError: naming `path` when it is missing, truncated, corrupt,
            refused by the pickle reader, or holds something else.
    """
    path = pathlib.Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CifarFileError(
                f"CIFAR file {path} is {size:,} bytes; the largest official "
                f"file is about 160 MB, so files over {MAX_FILE_BYTES:,} "
                "bytes are refused unread."
            )
        raw = path.read_bytes()
    except OSError as error:
        raise CifarFileError(
            f"cannot read CIFAR file {path}: {error}"
        ) from None
    try:
        batch = pickle_reader.read(raw)
    except pickle_reader.PickleMalformed as error:
        raise CifarFileError(
            f"CIFAR file {path} ({len(raw):,} bytes) is truncated or corrupt "
            f"and cannot be read: {error}. Download it again."
        ) from None
    except pickle_reader.PickleRefused as refused:
        raise CifarFileError(
            f"CIFAR file {path} ({len(raw):,} bytes) is not an official CIFAR "
            f"file: it holds {refused}. Nothing from it was run; download "
            "it again from the official site."
        ) from None
    return _check_batch(path, batch, layout)


def _keys(batch):
    """The dict's keys for a message, whatever their types (first 10)."""
    keys = [repr(key)[:40] for key in list(batch)[:10]]
    return "[" + ", ".join(keys) + (", ...]" if len(batch) > 10 else "]")


def _labels(path, labels, count, classes):
    """`count` integer labels as an int64 array, checked before NumPy
    sees them: a list of anything but ints (nested lists of shared
    references can expand to gigabytes in `np.asarray`) is refused."""
    if isinstance(labels, np.ndarray):
        if labels.shape != (count,) or not np.issubdtype(
            labels.dtype, np.integer
        ):
            raise CifarFileError(
                f"{path}: expected {count} integer labels, one per image; "
                f"found {labels.dtype} labels of shape {labels.shape}"
            )
        return labels.astype("int64")
    if not isinstance(labels, list) or len(labels) != count:
        described = (
            f"a list of {len(labels)}"
            if isinstance(labels, list)
            else type(labels).__name__
        )
        raise CifarFileError(
            f"{path}: expected a list of {count} integer labels, one per "
            f"image; found {described}"
        )
    for label in labels:
        if isinstance(label, bool) or not isinstance(label, int):
            raise CifarFileError(
                f"{path}: labels must be integers; found a "
                f"{type(label).__name__} among them"
            )
        if not 0 <= label < classes:
            raise CifarFileError(
                f"{path}: labels must lie in [0, {classes}); found "
                f"{str(label)[:20]}"
            )
    return np.asarray(labels, dtype="int64")


def _check_batch(path, batch, layout):
    if not isinstance(batch, dict) or b"data" not in batch:
        raise CifarFileError(
            f"{path} is not a CIFAR batch file: expected a dict with keys "
            f"b'data' and {layout.label_key!r}, found {type(batch).__name__}"
            + (f" with keys {_keys(batch)}" if isinstance(batch, dict) else "")
        )
    if layout.label_key not in batch:
        raise CifarFileError(
            f"{path} has no {layout.label_key!r} entry: is it a "
            f"{layout.name} file? Keys found: {_keys(batch)}"
        )
    data = batch[b"data"]
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != PIXELS
    ):
        described = (
            f"{data.dtype} array of shape {data.shape}"
            if isinstance(data, np.ndarray)
            else type(data).__name__
        )
        raise CifarFileError(
            f"{path}: b'data' must be a uint8 array of shape (N, {PIXELS}); "
            f"found a {described}"
        )
    labels = _labels(
        path, batch[layout.label_key], data.shape[0], layout.classes
    )
    if labels.size and (labels.min() < 0 or labels.max() >= layout.classes):
        raise CifarFileError(
            f"{path}: labels must lie in [0, {layout.classes}); found "
            f"[{labels.min()}, {labels.max()}]"
        )
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype("int32")


def holds_files(folder, layout):
    """True when `folder` holds the dataset's test file (its marker)."""
    return (pathlib.Path(folder) / layout.test_files[0]).is_file()


def read_split(folder, layout, split):
    """All images and labels of `split` from the files in `folder`.

    CIFAR-10's training split is five files. A folder holding some of them
    (a subset, like the shared test data) is read with a warning naming the
    missing ones; a folder with none of them, or without the test file, is
    an error naming what is missing.
    """
    folder = pathlib.Path(folder)
    names = layout.files(split)
    present = [name for name in names if (folder / name).is_file()]
    if not present:
        raise CifarFileError(
            f"no {layout.name} {split} file in {folder}: expected "
            f"{', '.join(names)} (the official '{layout.folder}' folder)"
        )
    missing = [name for name in names if name not in present]
    if missing:
        warnings.warn(
            f"{folder} holds {len(present)} of the {len(names)} {layout.name} "
            f"{split} files ({', '.join(missing)} missing); reading those "
            "present",
            stacklevel=3,
        )
    parts = [read_batch(folder / name, layout) for name in present]
    images = np.concatenate([images for images, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    return images, labels
