"""What a CIFAR training run needs: optimizer, schedule, loss, callbacks."""

import dataclasses
import pathlib
from collections.abc import Sequence

import keras

from keras_chattn.training import callbacks as recipe_callbacks
from keras_chattn.training import checkpoints
from keras_chattn.training.losses import SparseSmoothedCrossentropy
from keras_chattn.training.optimizers import ScaledSGD
from keras_chattn.training.schedule import WarmupSchedule
from keras_chattn.utils import validation
from keras_chattn.utils.environment import tensorboard_available
from keras_chattn.utils.types import PathLike

BEST_MODEL = "best_model.keras"
HISTORY = "history.csv"
BACKUP = "backup"
LOGS = "logs"
NO_DECAY = ("gamma", "beta", "bias")


@dataclasses.dataclass
class TrainingRecipe:
    """The parts of a training run; `compile(model)` puts them together.

    Attributes:
        optimizer: SGD with (Nesterov) momentum, weight decay and a
            `WarmupSchedule`.
        loss: sparse cross-entropy (with label smoothing when asked).
        metrics: top-1 `accuracy` (and `top5_accuracy` for 100 classes).
        callbacks: to pass to `model.fit`.
        schedule: the learning-rate schedule.
    """

    optimizer: keras.optimizers.Optimizer
    loss: keras.losses.Loss
    metrics: list
    callbacks: list
    schedule: WarmupSchedule

    def compile(self, model, jit_compile="auto"):
        """Compiles `model` with the recipe's optimizer, loss and metrics."""
        model.compile(
            optimizer=self.optimizer,
            loss=self.loss,
            metrics=self.metrics,
            jit_compile=jit_compile,
        )
        return model


def cifar_recipe(
    epochs: int,
    steps_per_epoch: int,
    batch_size: int = 128,
    learning_rate: float | None = None,
    momentum: float = 0.9,
    nesterov: bool = True,
    weight_decay: float = 5e-4,
    schedule: str = "cosine",
    warmup_epochs: int | None = None,
    label_smoothing: float = 0.0,
    classes: int = 10,
    output_dir: PathLike | None = None,
    monitor: str = "val_accuracy",
    tensorboard: bool = True,
    learning_rate_scales: Sequence[tuple[str, float]] | None = None,
) -> TrainingRecipe:
    """The CIFAR training recipe of ResNet papers, as Keras objects.

    SGD with momentum 0.9 (Nesterov), weight decay 5e-4 on kernels (not on
    BatchNorm scales and offsets or biases), a linear warm-up then cosine
    decay (or He et al.'s divide-by-10 at 50% and 75% of training), sparse
    cross-entropy with optional label smoothing, top-1 accuracy.

    With `output_dir`, the callbacks make the run resumable and leave its
    record there, each file replaced atomically and in an order that makes
    every kill recoverable (`keras_chattn.training.checkpoints`):
    - `keras.callbacks.TensorBoard` in `output_dir/logs` (when `tensorboard`
      is True and TensorFlow and tensorboard are installed);
    - `BestModelCheckpoint` of the best `monitor` to
      `output_dir/best_model.keras` (on resume, only an epoch better than
      every logged one replaces it);
    - `EpochCSVLogger` to `output_dir/history.csv` (one row per epoch, also
      across restarts);
    - `RunBackup` in `output_dir/backup`, last (kept after the run, so
      running the same command again continues where it stopped or, when
      it had finished, trains no further epoch);
    - `keras.callbacks.TerminateOnNaN` always, first.

    Mixed precision needs nothing more: under `mixed_float16`
    `model.compile` wraps the optimizer in a `LossScaleOptimizer`, and the
    package's builders keep the classifier output in float32. Under a
    distribution strategy, call this (and build the model) inside
    `distribution_scope(...)`.

    Args:
        epochs: epochs of the whole run.
        steps_per_epoch: batches per epoch (`len(dataset)`).
        batch_size: images per batch, used to scale the default learning
            rate. Defaults to 128.
        learning_rate: peak learning rate. Defaults to None:
            `0.1 * batch_size / 128`.
        momentum: SGD momentum. Defaults to 0.9.
        nesterov: Nesterov momentum. Defaults to True.
        weight_decay: decoupled weight decay of kernels. Defaults to 5e-4.
        schedule: "cosine" or "step". Defaults to "cosine".
        warmup_epochs: epochs of linear warm-up. Defaults to None:
            `min(5, epochs // 10)`.
        label_smoothing: in [0, 1). Defaults to 0.0.
        classes: number of classes; with 100 or more, top-5 accuracy is
            reported too. Defaults to 10.
        output_dir: folder for checkpoints and logs. Defaults to None (no
            file callbacks).
        monitor: the metric the best checkpoint follows. Defaults to
            "val_accuracy".
        tensorboard: write TensorBoard logs. Defaults to True.
        learning_rate_scales: None, or `(pattern, factor)` pairs giving the
            variables whose path matches `pattern` a learning rate scaled
            by `factor` (`ScaledSGD`), e.g. `[("_attention/", 1.0), (".",
            0.1)]` to fine-tune a backbone ten times slower than its new
            blocks.

    Returns:
        A `TrainingRecipe`.

    Examples:

        >>> import keras
        >>> from keras_chattn.training import cifar_recipe
        >>> recipe = cifar_recipe(epochs=10, steps_per_epoch=20)
        >>> model = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(10)])
        >>> model = recipe.compile(model)
        >>> type(model.optimizer).__name__, recipe.schedule.warmup_steps
        ('SGD', 20)
    """
    epochs = validation.positive_int("epochs", epochs)
    steps_per_epoch = validation.positive_int(
        "steps_per_epoch", steps_per_epoch
    )
    batch_size = validation.positive_int("batch_size", batch_size)
    if learning_rate is None:
        learning_rate = 0.1 * batch_size / 128
    if warmup_epochs is None:
        warmup_epochs = min(5, epochs // 10)
    if (
        isinstance(warmup_epochs, bool)
        or not isinstance(warmup_epochs, int)
        or not 0 <= warmup_epochs < epochs
    ):
        raise ValueError(
            f"warmup_epochs must be an integer in [0, epochs={epochs}). "
            f"Received: warmup_epochs={warmup_epochs!r}"
        )
    validation.number_in_range("momentum", momentum, 0.0, 1.0)
    validation.boolean("nesterov", nesterov)
    validation.number_in_range("weight_decay", weight_decay, 0.0, 1.0)
    classes = validation.positive_int("classes", classes)
    validation.choice("schedule", schedule, ("cosine", "step"), ordered=True)
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(
            "monitor must be the name of a logged metric, e.g. "
            f"'val_accuracy' or 'val_loss'. Received: monitor={monitor!r}"
        )
    learning_rate_schedule = WarmupSchedule(
        learning_rate,
        total_steps=epochs * steps_per_epoch,
        warmup_steps=warmup_epochs * steps_per_epoch,
        decay=schedule,
    )
    optimizer_class = keras.optimizers.SGD
    scaled = {}
    if learning_rate_scales is not None:
        optimizer_class = ScaledSGD
        scaled = {"scales": learning_rate_scales}
    optimizer = optimizer_class(
        learning_rate=learning_rate_schedule,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay or None,
        **scaled,
    )
    if weight_decay:
        optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    if classes >= 100:
        metrics.append(
            keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5_accuracy")
        )
    loss = (
        SparseSmoothedCrossentropy(label_smoothing)
        if label_smoothing
        else keras.losses.SparseCategoricalCrossentropy()
    )
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if output_dir is not None:
        callbacks += run_callbacks(output_dir, monitor, tensorboard)
    return TrainingRecipe(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        callbacks=callbacks,
        schedule=learning_rate_schedule,
    )


def run_callbacks(
    output_dir: PathLike,
    monitor: str = "val_accuracy",
    tensorboard: bool = True,
) -> list[keras.callbacks.Callback]:
    """The resumable run's callbacks writing into `output_dir` (see above)."""
    output_dir = pathlib.Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    mode = "min" if "loss" in monitor else "max"
    history = output_dir / HISTORY
    # The order of the writes at the end of an epoch is what makes every
    # kill recoverable (keras_chattn.training.checkpoints): the best model,
    # then the history row, then the backup that records the epoch as done.
    callbacks = [
        checkpoints.BestModelCheckpoint(
            output_dir / BEST_MODEL,
            monitor=monitor,
            mode=mode,
            best_so_far=recipe_callbacks.best_logged(history, monitor, mode),
        ),
        recipe_callbacks.EpochCSVLogger(history),
    ]
    if tensorboard and tensorboard_available():
        callbacks.insert(0, keras.callbacks.TensorBoard(str(output_dir / LOGS)))
    callbacks.append(checkpoints.RunBackup(output_dir / BACKUP))
    return callbacks
