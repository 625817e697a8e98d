"""What a CIFAR training run needs: optimizer, schedule, loss, callbacks."""

import dataclasses
import pathlib
from collections.abc import Sequence

import keras

from keras_chattn.training.backup import Backup
from keras_chattn.training.best_model import BestModel
from keras_chattn.training.distribute import worker
from keras_chattn.training.folders import BACKUP
from keras_chattn.training.folders import BEST_MODEL
from keras_chattn.training.folders import HISTORY
from keras_chattn.training.folders import LOGS
from keras_chattn.training.history import EpochDetails
from keras_chattn.training.history import EpochLog
from keras_chattn.training.history import best_logged
from keras_chattn.training.losses import SparseSmoothedCrossentropy
from keras_chattn.training.optimizers import ScaledSGD
from keras_chattn.utils import validation
from keras_chattn.utils.environment import tensorboard_available
from keras_chattn.utils.types import PathLike

NO_DECAY = ("gamma", "beta", "bias")


@dataclasses.dataclass
class TrainingRecipe:
    """The parts of a training run; `compile(model)` puts them together.

    Attributes:
        optimizer: SGD with (Nesterov) momentum, weight decay and the
            schedule.
        loss: sparse cross-entropy (with label smoothing when asked).
        metrics: top-1 `accuracy` (and `top5_accuracy` for 100 classes).
        callbacks: to pass to `model.fit`.
        schedule: the learning-rate schedule (Keras' `CosineDecay` with
            its warm-up, or `PiecewiseConstantDecay`).
    """

    optimizer: keras.optimizers.Optimizer
    loss: keras.losses.Loss
    metrics: list
    callbacks: list
    schedule: keras.optimizers.schedules.LearningRateSchedule

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
    settings: dict | None = None,
    extend: bool = False,
) -> TrainingRecipe:
    """The CIFAR training recipe of ResNet papers, as Keras objects.

    SGD with momentum 0.9 (Nesterov), weight decay 5e-4 on kernels (not on
    BatchNorm scales and offsets or biases), a linear warm-up then cosine
    decay (Keras' `CosineDecay`), or He et al.'s divide-by-10 at 50% and
    75% of training (`PiecewiseConstantDecay`), sparse cross-entropy with
    optional label smoothing, top-1 accuracy.

    With `output_dir`, the callbacks make the run resumable and leave its
    record there (`run_callbacks`); running the same code again continues
    where a killed run stopped and ends as an uninterrupted run would. A
    resume is refused, naming the difference, when the backup there is of
    another architecture, of other settings (this function's arguments and
    `settings`) or when another live run uses the folder.

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
        warmup_epochs: epochs of linear warm-up from 0, with the cosine
            schedule. Defaults to None: `min(5, epochs // 10)` for
            "cosine", 0 for "step".
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
        settings: with `output_dir`, more JSON values a resumed run must
            keep (the model, the data, the seed), beside this function's
            own arguments. Defaults to None.
        extend: with `output_dir`, resume a run with a larger `epochs` than
            it was started with (the schedule then spans the new length).
            Defaults to False.

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
    validation.number_in_range("learning_rate", learning_rate, 0.0, None)
    validation.choice("schedule", schedule, ("cosine", "step"), ordered=True)
    if warmup_epochs is None:
        warmup_epochs = min(5, epochs // 10) if schedule == "cosine" else 0
    if (
        isinstance(warmup_epochs, bool)
        or not isinstance(warmup_epochs, int)
        or not 0 <= warmup_epochs < epochs
    ):
        raise ValueError(
            f"warmup_epochs must be an integer in [0, epochs={epochs}). "
            f"Received: warmup_epochs={warmup_epochs!r}"
        )
    if warmup_epochs and schedule == "step":
        raise ValueError(
            "warmup_epochs needs schedule='cosine' (the step schedule has "
            f"no warm-up). Received: warmup_epochs={warmup_epochs}"
        )
    validation.number_in_range("momentum", momentum, 0.0, 1.0)
    validation.boolean("nesterov", nesterov)
    validation.number_in_range("weight_decay", weight_decay, 0.0, 1.0)
    classes = validation.positive_int("classes", classes)
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(
            "monitor must be the name of a logged metric, e.g. "
            f"'val_accuracy' or 'val_loss'. Received: monitor={monitor!r}"
        )
    learning_rate_schedule = make_schedule(
        schedule,
        learning_rate,
        total_steps=epochs * steps_per_epoch,
        warmup_steps=warmup_epochs * steps_per_epoch,
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
        recipe_settings = {
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "learning_rate": learning_rate,
            "momentum": momentum,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
            "schedule": schedule,
            "warmup_epochs": warmup_epochs,
            "label_smoothing": label_smoothing,
            "learning_rate_scales": learning_rate_scales,
        }
        callbacks += run_callbacks(
            output_dir,
            monitor,
            tensorboard,
            settings={**recipe_settings, **(settings or {})},
            extend=extend,
        )
    return TrainingRecipe(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        callbacks=callbacks,
        schedule=learning_rate_schedule,
    )


def make_schedule(
    name: str, learning_rate: float, total_steps: int, warmup_steps: int = 0
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Keras' schedule of the recipe: "cosine" (`CosineDecay` to 0 after
    a linear warm-up from 0 over `warmup_steps`) or "step"
    (`PiecewiseConstantDecay`: divided by 10 at 50% and 75% of
    `total_steps`, He et al., 2016)."""
    if name == "step":
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            [total_steps // 2, total_steps * 3 // 4],
            [learning_rate, learning_rate / 10, learning_rate / 100],
        )
    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=total_steps
        )
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=total_steps - warmup_steps,
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )


def run_callbacks(
    output_dir: PathLike,
    monitor: str = "val_accuracy",
    tensorboard: bool = True,
    settings: dict | None = None,
    extend: bool = False,
    chief: bool | None = None,
) -> list[keras.callbacks.Callback]:
    """The callbacks of a resumable run writing into `output_dir`.

    In the order Keras calls them at an epoch's end:
    - `keras.callbacks.TerminateOnNaN`: stops at a NaN loss;
    - `EpochDetails`: the learning rate and training time into the logs;
    - `keras.callbacks.TensorBoard` in `output_dir/logs` (when `tensorboard`
      is True and TensorFlow and tensorboard are installed);
    - `BestModel`: `output_dir/best_model.keras` when `monitor` beats every
      earlier epoch (of this run and, from the history, an interrupted one);
    - `EpochLog`: the epoch's row of `output_dir/history.csv`;
    - `Backup` in `output_dir/backup`, last: its record is the proof that
      the epoch is done, so a run killed before it runs the epoch again
      (from the same state, on the same data), and one killed after it
      goes on with the next.

    `settings` and `extend` go to `Backup`. In a multi-worker run only
    the chief (`chief`, by default `worker().chief`) writes; the other
    workers keep `TerminateOnNaN`, `EpochDetails`, and `BestModel` and
    `Backup` with `chief=False` (which restore the chief's backup when
    training starts and save into temporary folders when the chief saves).
    """
    output_dir = pathlib.Path(output_dir)
    mode = "min" if "loss" in monitor else "max"
    history = output_dir / HISTORY
    callbacks = [keras.callbacks.TerminateOnNaN(), EpochDetails()]
    if chief is None:
        chief = worker().chief
    best = BestModel(
        output_dir / BEST_MODEL,
        monitor=monitor,
        mode=mode,
        initial_value_threshold=best_logged(history, monitor, mode),
        chief=chief,
    )
    backup = Backup(output_dir / BACKUP, settings, extend, chief=chief)
    if not chief:
        return [*callbacks, best, backup]
    if tensorboard and tensorboard_available():
        callbacks.append(keras.callbacks.TensorBoard(str(output_dir / LOGS)))
    return [*callbacks, best, EpochLog(history, output_dir / BACKUP), backup]
