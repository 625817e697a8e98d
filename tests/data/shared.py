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
TRAIN_IMAGES = 4068
TEST_IMAGES = 1017


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
