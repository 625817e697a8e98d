"""Reads the official CIFAR-10 "python version" files for the examples.

The files are pickles, so they are read with an unpickler that can only
rebuild NumPy arrays (and the plain containers around them): a tampered file
cannot run code. (The package's own data pipelines are planned in the data
issue; these examples need only NumPy arrays.)
"""

import io
import os
import pathlib
import pickle

import numpy as np

TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
MEAN = np.array([0.4914, 0.4822, 0.4465], "float32")
STD = np.array([0.2470, 0.2435, 0.2616], "float32")


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Rebuilds containers, strings, numbers and NumPy arrays, nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name} from a CIFAR file"
        )


def load_cifar10_batch(path):
    """(images uint8 (N, 32, 32, 3), labels int64 (N,)) from one batch file."""
    with open(path, "rb") as handle:
        batch = _ArrayOnlyUnpickler(
            io.BytesIO(handle.read()), encoding="bytes"
        ).load()
    data = np.asarray(batch[b"data"], "uint8").reshape(-1, 3, 32, 32)
    return data.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], "int64")


def load_cifar10(data_dir):
    data_dir = pathlib.Path(data_dir)
    present = [name for name in TRAIN_FILES if (data_dir / name).exists()]
    if not present or not (data_dir / "test_batch").exists():
        raise SystemExit(
            f"No CIFAR-10 batches in {data_dir}: pass --data-dir pointing at "
            "a 'cifar-10-batches-py' folder."
        )
    parts = [load_cifar10_batch(data_dir / name) for name in present]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_val, y_val = load_cifar10_batch(data_dir / "test_batch")
    return (x_train, y_train), (x_val, y_val)


def normalise(images):
    return (images.astype("float32") / 255.0 - MEAN) / STD


def add_data_arguments(parser):
    """The --data-dir and --seed arguments every example takes."""
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("KERAS_CHATTN_DATA_DIR"),
        help="folder with the CIFAR-10 python batches",
    )
    parser.add_argument("--seed", type=int, default=0)


def load_normalised(parser, args):
    """((x_train, y_train), (x_val, y_val)) as normalised float32 arrays."""
    if args.data_dir is None:
        parser.error("pass --data-dir or set KERAS_CHATTN_DATA_DIR")
    (x_train, y_train), (x_val, y_val) = load_cifar10(args.data_dir)
    return (normalise(x_train), y_train), (normalise(x_val), y_val)
