"""The run's history: Keras' `CSVLogger`, one row per epoch across resumes.

What `EpochLog` adds to `keras.callbacks.CSVLogger(append=True)`: when
training starts, rows of epochs the backup does not hold are dropped (Keras
appends the row of an epoch killed before its backup a second time when it
runs again), and epochs count from 1, as Keras' progress lines do.
`EpochDetails` puts the learning rate and the training time into each
epoch's logs, which Keras' loggers then write.
"""

import csv
import io
import math
import pathlib
import time

import keras

from keras_chattn.training.backup import epochs_done
from keras_chattn.utils import files
from keras_chattn.utils.types import PathLike


class HistoryError(ValueError):
    """A history CSV that this package did not write (or that was edited)."""


def _rows(path, text):
    """The rows of history CSV `text` (of file `path`), checked."""
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as error:
        raise HistoryError(f"cannot read the history {path}: {error}") from None
    for number, row in enumerate(rows, start=1):
        if row.get("epoch") != str(number):
            raise HistoryError(
                f"{path} is not a training history written by keras_chattn: "
                f"row {number} has epoch={row.get('epoch')!r}, expected "
                f"{number}. Move it away to start the history again."
            )
    return rows


def read_history(path: PathLike) -> list[dict[str, float]]:
    """Rows of a history CSV as dicts of floats (epoch as int), or [].

    Raises `HistoryError`, naming the file, when it is not a history this
    package wrote: no `epoch` column, or epochs that do not run 1, 2, 3,
    ... (epochs count from 1, as Keras' progress lines do).

    Example:

        >>> import pathlib, tempfile
        >>> from keras_chattn.training import read_history
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.csv"
        >>> _ = path.write_text("epoch,loss\\n1,0.5\\n2,0.25\\n")
        >>> read_history(path)
        [{'epoch': 1, 'loss': 0.5}, {'epoch': 2, 'loss': 0.25}]
    """
    path = pathlib.Path(path)
    if not path.is_file():
        return []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise HistoryError(f"cannot read the history {path}: {error}") from None
    return [
        {
            key: int(value) if key == "epoch" else _number(value)
            for key, value in row.items()
            if key is not None
        }
        for row in _rows(path, text)
    ]


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def best_logged(path: PathLike, monitor: str, mode: str = "max"):
    """The best value of `monitor` in a history CSV, or None."""
    values = [
        row[monitor]
        for row in read_history(path)
        if not math.isnan(row.get(monitor, math.nan))
    ]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)


def keep_epochs(path: PathLike, epochs: int) -> None:
    """Keeps the header and the rows of epochs 1 ... `epochs` of a history
    CSV; drops the file when `epochs` is 0. Later rows are of epochs that
    will run again (the last possibly half written). Raises `HistoryError`
    when the file holds fewer rows than `epochs`."""
    path = pathlib.Path(path)
    if not path.is_file():
        if epochs:
            raise HistoryError(
                f"the backup holds {epochs} epochs but their history {path} "
                "is missing. Use another folder to start a new run."
            )
        return
    if epochs == 0:
        path.unlink()
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = "".join(lines[: epochs + 1])
    if len(_rows(path, kept)) != epochs or not kept.endswith("\n"):
        raise HistoryError(
            f"{path} holds fewer epochs than the backup ({epochs}): it was "
            "edited or replaced. Use another folder to start a new run."
        )
    if kept != "".join(lines):
        files.write_text(path, kept)


class EpochLog(keras.callbacks.CSVLogger):
    """`keras.callbacks.CSVLogger(append=True)` keeping one row per epoch
    when a run resumes from its backup (see the module docstring).

    Args:
        filename: the CSV file.
        backup_dir: the run's backup folder (`Backup`), whose epochs the
            file keeps.

    Example:

        >>> import tempfile, numpy as np, keras
        >>> from keras_chattn.training import EpochLog, read_history
        >>> folder = tempfile.mkdtemp()
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> log = EpochLog(folder + "/history.csv", folder + "/backup")
        >>> x, y = np.zeros((4, 2)), np.zeros((4, 1))
        >>> _ = model.fit(x, y, epochs=2, callbacks=[log], verbose=0)
        >>> [row["epoch"] for row in read_history(folder + "/history.csv")]
        [1, 2]
    """

    def __init__(self, filename: PathLike, backup_dir: PathLike) -> None:
        super().__init__(str(filename), append=True)
        self.backup_dir = pathlib.Path(backup_dir)
        self._lock = files.FolderLock(self.backup_dir.parent)

    def on_train_begin(self, logs=None):
        if not self._lock.held:
            self._lock.acquire()
        keep_epochs(self.filename, epochs_done(self.backup_dir))
        super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        self._lock.release()


class EpochDetails(keras.callbacks.Callback):
    """Adds `learning_rate` (at the epoch's end) and `train_time_s` (from
    the epoch's start to its validation) to each epoch's logs. Put it
    before the callbacks that write the logs."""

    def __init__(self) -> None:
        super().__init__()
        self._start = None
        self._train_time = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._train_time = None

    def on_test_begin(self, logs=None):
        if self._start is not None and self._train_time is None:
            self._train_time = time.perf_counter() - self._start

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self._start is not None:
            logs["train_time_s"] = self._train_time or (
                time.perf_counter() - self._start
            )
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in logs and optimizer is not None:
            rate = keras.ops.convert_to_numpy(optimizer.learning_rate)
            logs["learning_rate"] = float(rate)
