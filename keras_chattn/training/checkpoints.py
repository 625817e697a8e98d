"""The run's checkpoints, written so that no kill loses or repeats an epoch.

At the end of every epoch the recipe's callbacks write, in this order:

1. `best_model.keras`, when the epoch beats every epoch before it
   (`BestModelCheckpoint`);
2. the epoch's row of `history.csv` (`EpochCSVLogger`);
3. the backup (`RunBackup`): the weights and optimizer state after the
   epoch as `backup/epoch-NNNN.weights.h5`, then `backup/state.json`, which
   names that file and the number of finished epochs.

Each file is written to a temporary name and renamed into place
(`keras_chattn.utils.files`), and `state.json` is the only record of
progress. A run killed before step 3 completes resumes from the previous
backup and runs the epoch again, which then replaces its CSV row and, being
the same epoch from the same state on the same data, the same best model;
a run killed after it resumes at the next epoch. A kill in the middle of a
write leaves the file it was replacing intact.
"""

import json
import math
import pathlib

import keras

from keras_chattn.utils import files
from keras_chattn.utils.types import PathLike

STATE = "state.json"
WEIGHTS_PATTERN = "epoch-{epoch:04d}.weights.h5"


class BackupError(RuntimeError):
    """A backup folder that cannot be resumed from."""


def read_backup_state(backup_dir):
    """`{"epochs_done": int, "weights": str}` of the last backup, or None.

    Raises `BackupError`, naming the file, when `state.json` cannot be
    read or names a weights file that is not there.
    """
    path = pathlib.Path(backup_dir) / STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
        epochs_done = state["epochs_done"]
        weights = state["weights"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"cannot resume: the backup record {path} is unreadable "
            f"({error}). Delete the folder {path.parent} to start the run "
            "again from epoch 1."
        ) from None
    if not (pathlib.Path(backup_dir) / weights).is_file():
        raise BackupError(
            f"cannot resume: {path} names {weights}, which is not in "
            f"{path.parent}. Delete that folder to start the run again."
        )
    return {"epochs_done": int(epochs_done), "weights": weights}


def epochs_done(backup_dir: PathLike) -> int:
    """How many epochs the backup in `backup_dir` holds (0 without one).

    Build the training data for the epochs that remain from it (e.g.
    `keras_chattn.data.cifar_dataset(..., first_epoch=epochs_done(...))`),
    so that a resumed run sees the data an uninterrupted one would.
    """
    state = read_backup_state(backup_dir)
    return 0 if state is None else state["epochs_done"]


def clean_backup(backup_dir):
    """Removes what a killed run left in `backup_dir` besides its backup:
    temporary files, and weights files the record does not name.

    Returns the backup's state (see `read_backup_state`).
    """
    backup_dir = pathlib.Path(backup_dir)
    files.remove_leftovers(backup_dir)
    state = read_backup_state(backup_dir)
    keep = state["weights"] if state else None
    if backup_dir.is_dir():
        for path in backup_dir.glob("epoch-*.weights.h5"):
            if path.name != keep:
                path.unlink()
    return state


class RunBackup(keras.callbacks.Callback):
    """Backs the run up after every epoch; restores it when training starts.

    Replaces `keras.callbacks.BackupAndRestore`, which writes its weights
    and its epoch record in place and in two steps (so a kill can leave a
    truncated weights file, or an epoch recorded before it is logged). Put
    it last among the callbacks, after everything else that writes at the
    end of an epoch.

    Args:
        backup_dir: the folder of the backup.
    """

    def __init__(self, backup_dir: PathLike) -> None:
        super().__init__()
        self.backup_dir = pathlib.Path(backup_dir)

    def on_train_begin(self, logs=None):
        state = clean_backup(self.backup_dir)
        if state is None:
            return
        if not self.model.built:
            raise BackupError(
                "RunBackup restores into a built model: build it (call it on "
                "a batch, or use a functional model) before fit()."
            )
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.backup_dir / state["weights"])
        self.model._initial_epoch = state["epochs_done"]

    def on_epoch_end(self, epoch, logs=None):
        name = WEIGHTS_PATTERN.format(epoch=epoch + 1)
        with files.atomic_write(self.backup_dir / name) as temporary:
            self.model.save_weights(temporary)
        files.write_json(
            self.backup_dir / STATE, {"epochs_done": epoch + 1, "weights": name}
        )
        clean_backup(self.backup_dir)


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves the whole model when an epoch beats every earlier one.

    Like `keras.callbacks.ModelCheckpoint(save_best_only=True)`, but the
    file is replaced atomically, and an epoch that ties the best so far is
    not saved (so a repeated epoch never replaces the best with itself).

    Args:
        path: the `.keras` file.
        monitor: the logged quantity to compare. Defaults to
            `"val_accuracy"`.
        mode: `"max"` or `"min"`. Defaults to `"max"`.
        best_so_far: the best value of earlier epochs (of an interrupted
            run), or None.
    """

    def __init__(
        self,
        path: PathLike,
        monitor: str = "val_accuracy",
        mode: str = "max",
        best_so_far: float | None = None,
    ) -> None:
        super().__init__()
        self.path = pathlib.Path(path)
        self.monitor = monitor
        self.mode = mode
        self.best = best_so_far

    def _improves(self, value):
        if value is None or math.isnan(value):
            return False
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        value = None if value is None else float(value)
        if not self._improves(value):
            return
        with files.atomic_write(self.path) as temporary:
            self.model.save(temporary)
        self.best = value
