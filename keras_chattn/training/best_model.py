"""The run's best model: Keras' `ModelCheckpoint`, replaced whole.

What `BestModel` adds to `keras.callbacks.ModelCheckpoint(save_best_only=
True)`: the `.keras` file is written under a temporary name and renamed
over the old one (Keras writes in place: a kill mid-write leaves neither
the old best nor the new one), after checking that the disk has room; its
folder is locked while training (`Backup` says why).
"""

import pathlib

import keras

from keras_chattn.training.backup import save_and_discard
from keras_chattn.training.backup import state_bytes
from keras_chattn.utils import files
from keras_chattn.utils import validation
from keras_chattn.utils.types import PathLike


class BestModel(keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint(save_best_only=True)` whose file is
    replaced in one step.

    An epoch that ties the best so far is not saved (Keras' strict
    comparison), so an epoch run again after a kill never replaces the
    best with itself; `initial_value_threshold` carries an interrupted
    run's best (`best_logged`).

    Args:
        filepath: the `.keras` file.
        monitor: the logged quantity. Defaults to `"val_accuracy"`.
        mode: `"max"` or `"min"`. Defaults to `"max"`.
        initial_value_threshold: the best value of earlier epochs, or None.
        chief: False on a multi-worker run's other workers: they save
            when the chief does, into a temporary folder deleted at once
            (saving takes part in the run's collectives), and do not lock
            the folder. Defaults to True.

    Example:

        >>> import os, tempfile, numpy as np, keras
        >>> from keras_chattn.training import BestModel
        >>> path = tempfile.mkdtemp() + "/best_model.keras"
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> best = BestModel(path, monitor="loss", mode="min")
        >>> x, y = np.ones((4, 2)), np.ones((4, 1))
        >>> _ = model.fit(x, y, epochs=2, callbacks=[best], verbose=0)
        >>> os.path.exists(path)
        True
    """

    def __init__(
        self,
        filepath: PathLike,
        monitor: str = "val_accuracy",
        mode: str = "max",
        initial_value_threshold: float | None = None,
        chief: bool = True,
    ) -> None:
        super().__init__(
            str(filepath),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            initial_value_threshold=initial_value_threshold,
        )
        self._lock = files.FolderLock(pathlib.Path(filepath).parent)
        self.chief = validation.boolean("chief", chief)

    def on_train_begin(self, logs=None):
        if self.chief:
            if not self._lock.held:
                self._lock.acquire()
            # What a killed save left (this file's temporary, nothing else).
            files.temporary_path(self.filepath).unlink(missing_ok=True)
        super().on_train_begin(logs)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        if self.chief:
            self._lock.release()

    def _save_model(self, epoch, batch, logs):
        path = pathlib.Path(self.filepath)
        if not self._should_save_model(epoch, batch, logs, str(path)):
            return
        if not self.chief:
            return save_and_discard(self.model, path.name)
        files.ensure_room(path.parent, state_bytes(self.model), path.name)
        with files.atomic_write(path) as temporary:
            self.model.save(temporary, overwrite=True)
