"""The run's backup: Keras' `BackupAndRestore`, whole at every kill.

What `Backup` adds to `keras.callbacks.BackupAndRestore`, one line each:
- the weights are written under their epoch's name, then the record naming
  them replaces the old record in one step (Keras overwrites
  `latest.weights.h5` and then its record in place: a kill between the two
  resumes epoch n + 1's weights as epoch n);
- the record holds the model's weights and the run's settings, and a
  resume that differs in either is refused, naming the difference (Keras
  loads any weights file whose layers happen to match, or fails deep in
  h5py);
- the run's folder is locked while training, so a second live run on it is
  refused (Keras has no lock);
- the backup is a `.keras` file, whose weights Keras builds in memory:
  HDF5 writing to a disk that fills mid-write left the process to die of
  SIGSEGV at exit (a model whose config does not serialize falls back to
  `.weights.h5`); a write that cannot fit is not started;
- the backup is kept after training: it is the run's record, and what a
  longer run resumes from.
"""

import json
import math
import pathlib
import tempfile

import keras
import numpy as np

from keras_chattn.utils import files
from keras_chattn.utils import validation
from keras_chattn.utils.types import PathLike

RECORD = "training_metadata.json"
BACKUP_PATTERN = "epoch-{epoch:04d}"
# The record of backups written before this module (read to resume them).
OLD_RECORD = "state.json"


class BackupError(RuntimeError):
    """A backup that cannot be resumed from (unreadable, incomplete, of
    another architecture or other settings), named in the message."""


def read_record(backup_dir: PathLike) -> dict | None:
    """The backup's record: `{"epoch", "weights", "architecture",
    "settings", "extensions"}`, or None without a backup.

    Raises `BackupError`, naming the file, when it is unreadable or names
    weights that are not there.
    """
    folder = pathlib.Path(backup_dir)
    path = folder / RECORD
    if not path.is_file() and (folder / OLD_RECORD).is_file():
        path = folder / OLD_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        epoch = int(record.get("epoch", record.get("epochs_done")))
        weights = str(record["weights"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BackupError(
            f"cannot resume: the backup record {path} is unreadable "
            f"({error}). Delete the folder {folder} to start the run again "
            "from epoch 1."
        ) from None
    if (
        pathlib.Path(weights).name != weights
        or not (folder / weights).is_file()
    ):
        raise BackupError(
            f"cannot resume: {path} names {weights!r}, which is not a file "
            f"in {folder}. Delete that folder to start the run again."
        )
    return {
        "architecture": None,
        "settings": None,
        "extensions": [],
        **record,
        "epoch": epoch,
        "weights": weights,
    }


def epochs_done(backup_dir: PathLike) -> int:
    """How many epochs the backup in `backup_dir` holds (0 without one).

    Build the training data of the remaining epochs from it (e.g.
    `keras_chattn.data.cifar_dataset(..., first_epoch=epochs_done(...))`),
    so that a resumed run sees the data an uninterrupted one would.
    """
    record = read_record(backup_dir)
    return 0 if record is None else record["epoch"]


def check_settings(
    backup_dir: PathLike, settings: dict, extend: bool = False
) -> dict | None:
    """Refuses to resume the backup in `backup_dir` with other `settings`.

    Every key of `settings` is compared with the backup's; any difference
    raises `BackupError` naming each key with both values. `epochs` may
    only grow, and only with `extend=True` (the extension is then
    recorded). Returns the record (None without a backup). Call it before
    loading data to fail fast; `Backup` calls it again when training starts.
    """
    record = read_record(backup_dir)
    if record is None or record["settings"] is None:
        return record
    saved = record["settings"]
    settings = json.loads(json.dumps(settings))  # as the record holds them
    changed = [
        f"{key}: {saved.get(key)!r} there, {value!r} now"
        for key, value in settings.items()
        if key != "epochs" and saved.get(key) != value
    ]
    where = pathlib.Path(backup_dir) / RECORD
    if changed:
        raise BackupError(
            f"cannot resume {where}: it is a run with other settings ("
            + "; ".join(changed)
            + "). Use another folder, or the same settings to resume."
        )
    before, after = (
        saved.get("epochs"),
        settings.get("epochs", saved.get("epochs")),
    )
    if after != before:
        if not isinstance(before, int) or after < before:
            raise BackupError(
                f"cannot resume {where}: it is a run of {before!r} epochs, "
                f"which cannot be shortened to {after}."
            )
        if not extend:
            raise BackupError(
                f"cannot resume {where}: it is a run of {before} epochs, not "
                f"{after}. Extend it explicitly (extend=True, --extend: the "
                f"learning-rate schedule then spans {after} epochs from epoch "
                f"{record['epoch'] + 1} on), or ask for {before} epochs."
            )
        record["settings"] = {**saved, "epochs": after}
        record["extensions"] = [
            *record["extensions"],
            {
                "from_epochs": before,
                "to_epochs": after,
                "at_epoch": record["epoch"],
            },
        ]
    return record


def remove_stale(backup_dir: PathLike, also: tuple = ()) -> None:
    """Removes the epoch files the backup's record does not name (a run
    killed between writing the record and this clean-up leaves the previous
    epoch's file), and the files named in `also`."""
    record = read_record(backup_dir)
    if record is None:
        return
    folder = pathlib.Path(backup_dir)
    for old in (*folder.glob("epoch-*"), *(folder / name for name in also)):
        if old.name != record["weights"] and old.is_file():
            old.unlink()


def architecture(model: keras.Model) -> list:
    """Every weight's path, name and shape, in order: what a backup must
    fit. Paths differ between two builds of one unnamed model (Keras
    numbers its layers), so resumes compare names and shapes."""
    return [[w.path, w.name, list(w.shape)] for w in model.weights]


def _fits(saved, current):
    return [(n, s) for _, n, s in saved] == [(n, s) for _, n, s in current]


def state_bytes(model: keras.Model) -> int:
    """Bytes of the model's weights and optimizer state (what a backup or
    a saved model holds besides its config)."""
    variables = list(model.weights)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and optimizer.built:
        variables += list(optimizer.variables)
    return sum(
        math.prod(v.shape)
        * np.dtype(keras.backend.standardize_dtype(v.dtype)).itemsize
        for v in variables
    )


class Backup(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that a kill never leaves half
    written, that refuses another run's backup, and that locks its folder.

    After every epoch it writes `epoch-NNNN.keras` (the model with its
    optimizer state) and then `training_metadata.json`, the record naming
    it; when training starts it restores the recorded epoch. Put it last
    among the callbacks that write at an epoch's end: the record is the
    only proof the epoch is done. See the module docstring for what it adds
    to Keras' callback and why.

    Args:
        backup_dir: the backup's folder. Its parent (the run's folder) is
            locked from the start of training to its end.
        settings: None, or a JSON-able dict of what the run must keep
            (`cifar_recipe` passes its arguments); a resume with any other
            value is refused. Defaults to None.
        extend: allow a resume with a larger `settings["epochs"]`. Defaults
            to False.
        chief: False on a multi-worker run's other workers: they restore
            the chief's backup (the folder must be one all workers read,
            as it is on one machine or a shared file system), neither lock
            nor write it, and save into a temporary folder when the chief
            saves (`save_and_discard`). Defaults to True.

    Example:

        >>> import tempfile, numpy as np, keras
        >>> from keras_chattn.training import Backup, epochs_done
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> folder = tempfile.mkdtemp() + "/backup"
        >>> x, y = np.zeros((4, 2)), np.zeros((4, 1))
        >>> _ = model.fit(x, y, epochs=2, callbacks=[Backup(folder)], verbose=0)
        >>> epochs_done(folder)
        2
    """

    def __init__(
        self,
        backup_dir: PathLike,
        settings: dict | None = None,
        extend: bool = False,
        chief: bool = True,
    ) -> None:
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.chief = validation.boolean("chief", chief)
        self.backup_path = pathlib.Path(backup_dir)
        if settings is not None:
            try:
                settings = json.loads(json.dumps(settings))
            except (TypeError, ValueError) as error:
                raise ValueError(
                    "settings must be a dict of JSON values (str, numbers, "
                    f"lists, dicts). Received: settings={settings!r} ({error})"
                ) from None
            if not isinstance(settings, dict):
                raise ValueError(
                    f"settings must be a dict. Received: settings={settings!r}"
                )
        self.settings = settings
        self.extend = bool(extend)
        self._lock = files.FolderLock(self.backup_path.parent)
        self._extensions = []

    def on_train_begin(self, logs=None):
        if self.chief:
            if not self._lock.held:
                self._lock.acquire()
            files.remove_leftovers(self.backup_path)
        record = check_settings(
            self.backup_path, self.settings or {}, self.extend
        )
        self._extensions = [] if record is None else record["extensions"]
        if record is not None:
            self._restore(record)
            if self.chief:
                remove_stale(self.backup_path)

    def on_train_end(self, logs=None):
        if self.chief:
            self._lock.release()

    def _restore(self, record):
        if not self.model.built:
            raise BackupError(
                "Backup restores into a built model: build it (call it on a "
                "batch, or use a functional model) before fit()."
            )
        saved, current = record["architecture"], architecture(self.model)
        if saved is not None and not _fits(saved, current):
            raise BackupError(
                _architecture_difference(
                    self.backup_path / RECORD, saved, current
                )
            )
        optimizer = self.model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.backup_path / record["weights"])
        self.model._initial_epoch = record["epoch"]

    def _save_model(self):
        name = BACKUP_PATTERN.format(epoch=self._current_epoch)
        whole = _config_serializes(self.model)
        name += ".keras" if whole else ".weights.h5"
        if not self.chief:
            return save_and_discard(self.model, name)
        needed = state_bytes(self.model)
        files.ensure_room(self.backup_path, needed, "the backup")
        with files.atomic_write(self.backup_path / name) as temporary:
            if whole:
                self.model.save(temporary)
            else:
                self.model.save_weights(temporary)
        files.write_json(
            self.backup_path / RECORD,
            {
                "epoch": self._current_epoch,
                "weights": name,
                "architecture": architecture(self.model),
                "settings": self.settings,
                "extensions": self._extensions,
            },
        )
        remove_stale(self.backup_path, also=(OLD_RECORD,))


def save_and_discard(model: keras.Model, name: str) -> None:
    """What a multi-worker run's other workers do when the chief saves:
    the same save, into a temporary folder deleted at once. Saving takes
    part in the run's collectives (on JAX, reading distributed weights
    does): a chief saving alone waits for the others forever."""
    with tempfile.TemporaryDirectory() as scratch:
        path = pathlib.Path(scratch) / name
        if name.endswith(".keras"):
            model.save(path)
        else:
            model.save_weights(path)


def _config_serializes(model):
    try:
        model.get_config()
    except NotImplementedError:
        return False
    return True


def _architecture_difference(path, saved, current):
    first = next(
        (
            index
            for index, (a, b) in enumerate(zip(saved, current, strict=False))
            if a[1:] != b[1:]
        ),
        min(len(saved), len(current)),
    )

    def weight(entries):
        if first >= len(entries):
            return "nothing"
        return f"{entries[first][0]} {entries[first][2]}"

    return (
        f"cannot resume {path}: it is the backup of another architecture "
        f"({len(saved)} weights there, {len(current)} in this model; weight "
        f"{first} is {weight(saved)} there, {weight(current)} here). Use "
        "another folder for this model, or delete that one."
    )
