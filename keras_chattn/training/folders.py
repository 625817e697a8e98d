"""One run's folder: locked while in use, refusing another run's files."""

import contextlib
import pathlib
from collections.abc import Iterator

from keras_chattn.training.backup import BackupError
from keras_chattn.training.backup import check_settings
from keras_chattn.training.backup import remove_stale
from keras_chattn.training.distribute import worker
from keras_chattn.training.history import HistoryError
from keras_chattn.training.history import read_history
from keras_chattn.utils import files
from keras_chattn.utils.types import PathLike

BEST_MODEL = "best_model.keras"
HISTORY = "history.csv"
BACKUP = "backup"
LOGS = "logs"
# What `run_folder` (and the callbacks, when training starts) raise instead
# of resuming the wrong run or writing where they cannot.
REFUSALS = (BackupError, HistoryError, files.FolderInUse, files.StorageError)


@contextlib.contextmanager
def run_folder(
    output_dir: PathLike,
    settings: dict | None = None,
    extend: bool = False,
    chief: bool | None = None,
) -> Iterator[int]:
    """Holds `output_dir`'s lock and yields the epochs its backup holds.

    On entry it removes the temporary files of writes a kill interrupted,
    and refuses (raising one of `REFUSALS`, naming what differs) a folder
    in use by another live process, a backup of other `settings` (see
    `check_settings`; `extend` allows more epochs) and a history that is
    not the run's. `cifar_recipe(output_dir=...)`'s callbacks check again
    when training starts, and lock the folder themselves: this is for the
    work around training (the data of the remaining epochs, a summary).

    A multi-worker run's other workers (`chief` False; by default
    `worker().chief`) read the chief's folder and neither lock nor change
    it.

    Example:

        >>> import tempfile
        >>> from keras_chattn.training import run_folder
        >>> with run_folder(tempfile.mkdtemp(), {"epochs": 3}) as done:
        ...     done
        0
    """
    folder = pathlib.Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise files.StorageError(
            f"{folder} is a file, not a folder: a run needs a folder (it is "
            "created when missing)."
        )
    if chief is None:
        chief = worker().chief
    if not chief:
        record = check_settings(folder / BACKUP, settings or {}, extend)
        yield record["epoch"] if record else 0
        return
    with files.FolderLock(folder):
        files.remove_leftovers(folder)
        record = check_settings(folder / BACKUP, settings or {}, extend)
        remove_stale(folder / BACKUP)
        history = read_history(folder / HISTORY)
        done = record["epoch"] if record else 0
        if len(history) < done:
            raise HistoryError(
                f"{folder / HISTORY} holds {len(history)} epochs but the "
                f"backup {done}: it was edited or replaced. Use another "
                "folder."
            )
        yield done
