"""Callbacks of the CIFAR recipe that survive an interrupted run."""

import csv
import math
import pathlib
import time

import keras

from keras_chattn.utils import files
from keras_chattn.utils.types import PathLike


class HistoryError(ValueError):
    """A history CSV that this package did not write (or that was edited)."""


def read_history(path: PathLike) -> list[dict[str, float]]:
    """Rows of a history CSV as dicts of floats (epoch as int), or [].

    Raises `HistoryError`, naming the file, when it is not a history this
    package wrote: no `epoch` column, an epoch that is not a whole number,
    or epochs that do not run 1, 2, 3, ... (epochs count from 1, as Keras'
    progress lines, `summary.json` and `curves.png` do).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        return []
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise HistoryError(f"cannot read the history {path}: {error}") from None
    history = []
    for number, row in enumerate(rows):
        epoch = row.get("epoch")
        try:
            epoch = int(epoch)
        except (TypeError, ValueError):
            raise HistoryError(
                f"{path} is not a training history written by keras_chattn: "
                f"row {number + 1} has epoch={epoch!r}, expected {number + 1}. "
                "Move it away to start the history again."
            ) from None
        if epoch != number + 1:
            raise HistoryError(
                f"{path} is not a training history written by keras_chattn: "
                f"row {number + 1} is epoch {epoch}, expected {number + 1}. "
                "Move it away to start the history again."
            )
        history.append(
            {
                key: epoch if key == "epoch" else _number(value)
                for key, value in row.items()
                if key is not None
            }
        )
    return history


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def best_logged(path, monitor, mode="max"):
    """The best value of `monitor` in a history CSV, or None."""
    values = [
        row[monitor]
        for row in read_history(path)
        if monitor in row and not math.isnan(row[monitor])
    ]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)


class EpochCSVLogger(keras.callbacks.Callback):
    """Writes one CSV row per epoch, keyed by epoch, safe across restarts.

    Unlike `keras.callbacks.CSVLogger(append=True)`, an epoch that is run
    again after an interruption (e.g. by `keras.callbacks.BackupAndRestore`)
    replaces its row instead of adding a second one, and rows of later epochs
    left by an older run are dropped. The file is rewritten atomically, so a
    run killed while writing leaves the previous, complete file. Epochs
    count from 1 (Keras' own `CSVLogger` counts from 0). The
    learning rate at the epoch's end is logged as `learning_rate`, and the
    seconds spent training (from the epoch's start to its validation) as
    `train_time_s`.

    Args:
        path: the CSV file.
    """

    def __init__(self, path: PathLike) -> None:
        super().__init__()
        self.path = pathlib.Path(path)
        self._epoch_start = None
        self._train_time = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._train_time = None

    def on_test_begin(self, logs=None):
        if self._epoch_start is not None and self._train_time is None:
            self._train_time = time.perf_counter() - self._epoch_start

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}  # Keras' epoch index counts from 0
        if self._epoch_start is not None:
            row["train_time_s"] = self._train_time or (
                time.perf_counter() - self._epoch_start
            )
        row.update({key: float(value) for key, value in (logs or {}).items()})
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in row and optimizer is not None:
            row["learning_rate"] = _current_learning_rate(optimizer)
        rows = [r for r in read_history(self.path) if r["epoch"] <= epoch]
        rows.append(row)
        columns = ["epoch"]
        for r in rows:
            columns += [key for key in r if key not in columns]
        with files.atomic_write(self.path) as temporary:
            with open(temporary, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns, restval="")
                writer.writeheader()
                writer.writerows(rows)


def _current_learning_rate(optimizer):
    rate = optimizer.learning_rate
    return float(keras.ops.convert_to_numpy(rate))
