"""The CIFAR training recipe: optimizer, schedule, loss, resumable callbacks.

- `recipe`: `cifar_recipe` / `TrainingRecipe` (what a run needs) and
  `run_callbacks`;
- `schedule`: `WarmupSchedule` (warm-up, then cosine or steps);
- `losses`: `SparseSmoothedCrossentropy`;
- `optimizers`: `ScaledSGD`, a learning rate per group of variables;
- `callbacks`: the epoch CSV log that survives an interrupted run;
- `checkpoints`: the backup and best-model checkpoints, written so that no
  kill loses or repeats an epoch;
- `distribute`: the distribution strategies of each backend.
"""

from keras_chattn.training.callbacks import EpochCSVLogger
from keras_chattn.training.callbacks import HistoryError
from keras_chattn.training.callbacks import read_history
from keras_chattn.training.checkpoints import BackupError
from keras_chattn.training.checkpoints import BestModelCheckpoint
from keras_chattn.training.checkpoints import RunBackup
from keras_chattn.training.checkpoints import epochs_done
from keras_chattn.training.distribute import STRATEGIES
from keras_chattn.training.distribute import distribution_scope
from keras_chattn.training.losses import SparseSmoothedCrossentropy
from keras_chattn.training.optimizers import ScaledSGD
from keras_chattn.training.recipe import BACKUP
from keras_chattn.training.recipe import BEST_MODEL
from keras_chattn.training.recipe import HISTORY
from keras_chattn.training.recipe import TrainingRecipe
from keras_chattn.training.recipe import cifar_recipe
from keras_chattn.training.recipe import run_callbacks
from keras_chattn.training.schedule import WarmupSchedule

__all__ = [
    "BACKUP",
    "BEST_MODEL",
    "BackupError",
    "BestModelCheckpoint",
    "EpochCSVLogger",
    "HISTORY",
    "HistoryError",
    "RunBackup",
    "STRATEGIES",
    "ScaledSGD",
    "SparseSmoothedCrossentropy",
    "TrainingRecipe",
    "WarmupSchedule",
    "cifar_recipe",
    "distribution_scope",
    "epochs_done",
    "read_history",
    "run_callbacks",
]
