"""The shared real CIFAR-10 files, and fake files written for a test."""

import pathlib
import pickle

import numpy as np
import pytest

DATA = (
    pathlib.Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "cifar-10-batches-py"
).resolve()
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"the shared CIFAR-10 files are not at {DATA}"
)


def count_images(folder, names):
    """Images in the official-format batch files `names` found in `folder`.

    Read here with pickle alone, so the loaders' counts are checked against
    the files themselves: the tests hold for the shared subset (4,068
    training and 1,017 validation images) and for the full official
    files (50,000 and 10,000) at the same path.
    """
    total = 0
    for name in names:
        path = folder / name
        if path.is_file():
            batch = pickle.loads(path.read_bytes(), encoding="bytes")
            total += len(batch[b"labels"])
    return total


TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TRAIN_IMAGES = count_images(DATA, TRAIN_FILES) if DATA.is_dir() else 0
TEST_IMAGES = count_images(DATA, ("test_batch",)) if DATA.is_dir() else 0


def write_batch(path, images, labels, label_key=b"labels"):
    """Writes uint8 NHWC `images` as an official-format batch file."""
    data = np.asarray(images, "uint8").transpose(0, 3, 1, 2).reshape(-1, 3072)
    batch = {
        b"batch_label": b"fake",
        b"data": data,
        label_key: [int(label) for label in labels],
        b"filenames": [b"x.png"] * len(labels),
    }
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return path


def fake_cifar10(folder, per_file=6, files=("data_batch_1", "test_batch")):
    """A folder of small official-format CIFAR-10 files; returns its images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    written = {}
    for name in files:
        images = rng.integers(0, 256, (per_file, 32, 32, 3), dtype="uint8")
        labels = np.arange(per_file) % 10
        write_batch(folder / name, images, labels)
        written[name] = (images, labels)
    return written
