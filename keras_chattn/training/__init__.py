"""The CIFAR training recipe on Keras' own callbacks and schedules.

- `recipe`: `cifar_recipe` / `TrainingRecipe` (optimizer, Keras schedule,
  loss, metrics, callbacks) and `run_callbacks`;
- `backup`: `Backup` (Keras' `BackupAndRestore`, whole at every kill,
  refusing another run's backup, locking its folder), `epochs_done`;
- `best_model`: `BestModel` (Keras' `ModelCheckpoint`, replaced whole);
- `folders`: `run_folder`, a run's folder locked and checked;
- `history`: `EpochLog` (Keras' `CSVLogger`, one row per epoch across
  resumes), `EpochDetails`, `read_history`;
- `losses`: `SparseSmoothedCrossentropy`;
- `optimizers`: `ScaledSGD`, a learning rate per group of variables;
- `schedule`: `WarmupSchedule`, kept so that files saved with it load;
- `distribute`: the distribution strategies of each backend, `worker`.
"""

from keras_chattn.training.backup import Backup
from keras_chattn.training.backup import BackupError
from keras_chattn.training.backup import check_settings
from keras_chattn.training.backup import epochs_done
from keras_chattn.training.best_model import BestModel
from keras_chattn.training.distribute import STRATEGIES
from keras_chattn.training.distribute import Worker
from keras_chattn.training.distribute import WorkerLost
from keras_chattn.training.distribute import distribution_scope
from keras_chattn.training.distribute import peers_watched
from keras_chattn.training.distribute import worker
from keras_chattn.training.distribute import worker_part
from keras_chattn.training.folders import BACKUP
from keras_chattn.training.folders import BEST_MODEL
from keras_chattn.training.folders import HISTORY
from keras_chattn.training.folders import REFUSALS
from keras_chattn.training.folders import run_folder
from keras_chattn.training.history import EpochDetails
from keras_chattn.training.history import EpochLog
from keras_chattn.training.history import HistoryError
from keras_chattn.training.history import read_history
from keras_chattn.training.losses import SparseSmoothedCrossentropy
from keras_chattn.training.optimizers import ScaledSGD
from keras_chattn.training.recipe import TrainingRecipe
from keras_chattn.training.recipe import cifar_recipe
from keras_chattn.training.recipe import make_schedule
from keras_chattn.training.recipe import run_callbacks
from keras_chattn.training.schedule import WarmupSchedule

__all__ = [
    "BACKUP",
    "BEST_MODEL",
    "Backup",
    "BackupError",
    "BestModel",
    "EpochDetails",
    "EpochLog",
    "HISTORY",
    "HistoryError",
    "REFUSALS",
    "STRATEGIES",
    "ScaledSGD",
    "SparseSmoothedCrossentropy",
    "TrainingRecipe",
    "WarmupSchedule",
    "Worker",
    "WorkerLost",
    "check_settings",
    "cifar_recipe",
    "distribution_scope",
    "epochs_done",
    "make_schedule",
    "peers_watched",
    "read_history",
    "run_callbacks",
    "run_folder",
    "worker",
    "worker_part",
]
