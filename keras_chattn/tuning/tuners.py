"""Runs a Keras Tuner search over attention blocks and tabulates it."""

import csv
import dataclasses
import json
import math
import pathlib
import time
from collections.abc import Sequence
from typing import Any

import keras
import keras_tuner
import numpy as np

from keras_chattn.tuning.hypermodel import AttentionHyperModel
from keras_chattn.tuning.hypermodel import hyperparameter_name
from keras_chattn.tuning.spaces import search_space
from keras_chattn.utils import environment
from keras_chattn.utils import files
from keras_chattn.utils import validation
from keras_chattn.utils.types import PathLike

TUNERS = ("random", "hyperband", "bayesian")
OBJECTIVE = "val_accuracy"
RECORD = "keras_chattn_trial.json"
SETTINGS = "keras_chattn_search.json"
BEST_MODEL = "best_model.keras"
COLUMNS = (
    "trial",
    "status",
    "block",
    "hyperparameters",
    "best_val_accuracy",
    "parameters",
    "time_s",
)


class TrialRecorder(keras.callbacks.Callback):
    """Times a trial, keeps its best epoch's weights in memory.

    Keras Tuner deep-copies callbacks per execution; this one is returned
    as itself, so the tuner can read what it recorded after the fit.
    """

    def __init__(self, monitor: str = OBJECTIVE) -> None:
        super().__init__()
        self.monitor = monitor
        self.best = -math.inf
        self.best_weights = None
        self.started = None
        self.seconds = 0.0
        self.saw_nan = False

    def __deepcopy__(self, memo):
        return self

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.saw_nan = True

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value > self.best:
            self.best = float(value)
            self.best_weights = self.model.get_weights()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.started


class _RecordsTrials:
    """Mixin: records each trial, saves the best model once, drops the
    per-trial weight checkpoints a tuner does not need."""

    keeps_checkpoints = False

    def run_trial(self, trial, *args, **kwargs):
        recorder = TrialRecorder()
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), recorder]
        results = super().run_trial(trial, *args, **kwargs)
        trial_dir = pathlib.Path(self.get_trial_dir(trial.trial_id))
        if not self.keeps_checkpoints:
            for checkpoint in trial_dir.glob("checkpoint*"):
                checkpoint.unlink()
        model = recorder.model
        if recorder.saw_nan:
            raise keras_tuner.errors.FailedTrialError(
                f"trial {trial.trial_id}: the loss became NaN"
            )
        if model is None or not np.isfinite(recorder.best):
            raise keras_tuner.errors.FailedTrialError(
                f"trial {trial.trial_id} reached no finite {OBJECTIVE} "
                "(NaN loss or no validation data)"
            )
        record = {
            "parameters": int(model.count_params()),
            "time_s": recorder.seconds,
            "best_val_accuracy": recorder.best,
            # Which process ran it, in Keras Tuner's distributed mode.
            "tuner_id": environment.tuner_id(),
        }
        files.write_json(trial_dir / RECORD, record)
        best_path = pathlib.Path(self.project_dir) / BEST_MODEL
        best_so_far = _best_recorded(self.project_dir, exclude=trial.trial_id)
        if best_so_far is None or recorder.best > best_so_far:
            model.set_weights(recorder.best_weights)
            with files.atomic_write(best_path) as temporary:
                model.save(temporary)
        return results


def _best_recorded(project_dir, exclude=None):
    values = []
    for path in pathlib.Path(project_dir).glob(f"trial_*/{RECORD}"):
        if path.parent.name == f"trial_{exclude}":
            continue
        values.append(json.loads(path.read_text())["best_val_accuracy"])
    return max(values) if values else None


class RandomSearch(_RecordsTrials, keras_tuner.RandomSearch):
    """keras_tuner.RandomSearch that records trials and keeps no
    checkpoints."""


class BayesianOptimization(_RecordsTrials, keras_tuner.BayesianOptimization):
    """keras_tuner.BayesianOptimization that records trials and keeps no
    checkpoints."""


class Hyperband(_RecordsTrials, keras_tuner.Hyperband):
    """keras_tuner.Hyperband that records trials. It keeps one best-epoch
    weights file per trial: Hyperband continues trials from them."""

    keeps_checkpoints = True


@dataclasses.dataclass
class SearchResults:
    """What `search` found: one row per trial, the best, where it is."""

    rows: list
    best_hyperparameters: dict
    best_model_path: pathlib.Path
    project_dir: pathlib.Path
    wall_time_s: float
    # False in a distributed worker, whose rows the chief tabulates.
    is_chief: bool = True

    def table(self):
        """The rows as a Markdown table."""
        lines = [
            "| " + " | ".join(COLUMNS) + " |",
            "|" + "|".join(" --- " for _ in COLUMNS) + "|",
        ]
        for row in self.rows:
            lines.append(
                "| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |"
            )
        return "\n".join(lines)


def _cell(value):
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def make_tuner(
    hypermodel: AttentionHyperModel,
    *,
    tuner: str = "random",
    max_trials: int = 4,
    epochs: int = 1,
    directory: PathLike = "runs/tune",
    project_name: str = "search",
    resume: bool = False,
    seed: int = 0,
    max_consecutive_failed_trials: int = 3,
) -> keras_tuner.Tuner:
    """The tuner for `search` (see there); refuses to reuse a directory
    unless `resume`."""
    validation.choice("tuner", tuner, TUNERS, ordered=True)
    # Keras Tuner reads max_trials=0 as "no limit" and a negative count as
    # "none": both are refused here.
    validation.positive_int("max_trials", max_trials)
    validation.positive_int("epochs", epochs)
    validation.positive_int(
        "max_consecutive_failed_trials", max_consecutive_failed_trials
    )
    project_dir = pathlib.Path(directory) / project_name
    # Only the chief refuses: in distributed mode workers join the chief's
    # directory after it has written its state there.
    if (
        environment.is_tuner_chief()
        and not resume
        and (project_dir / "oracle.json").exists()
    ):
        raise FileExistsError(
            f"{project_dir} already holds a search. Pass resume=True "
            "(--resume) to continue it, or choose another directory."
        )
    if tuner == "bayesian" and hypermodel.conditional:
        hypermodel = hypermodel.flattened()
    common = dict(
        hypermodel=hypermodel,
        objective=keras_tuner.Objective(OBJECTIVE, "max"),
        directory=str(directory),
        project_name=project_name,
        overwrite=False,
        seed=seed,
        max_consecutive_failed_trials=max_consecutive_failed_trials,
    )
    if tuner == "random":
        return RandomSearch(max_trials=max_trials, **common)
    if tuner == "bayesian":
        return BayesianOptimization(max_trials=max_trials, **common)
    return Hyperband(max_epochs=epochs, factor=3, **common)


def search(
    train: Any,
    validation: Any,
    hypermodel: AttentionHyperModel | None = None,
    tuner: str = "random",
    max_trials: int = 4,
    epochs: int = 1,
    directory: PathLike = "runs/tune",
    project_name: str = "search",
    resume: bool = False,
    seed: int = 0,
    verbose: int = 1,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    settings: dict[str, Any] | None = None,
) -> SearchResults:
    """Searches blocks and hyperparameters; returns a `SearchResults`.

    Args:
        train: training data for `model.fit` (a tf.data pipeline or a
            `keras.utils.PyDataset`, e.g. `keras_chattn.data.cifar_dataset`).
        validation: validation data; trials are ranked by `val_accuracy`.
        hypermodel: an `AttentionHyperModel`. Defaults to None: every block
            on a CIFAR ResNet-20, the schedule sized to `epochs` and
            `len(train)`.
        tuner: "random", "hyperband" or "bayesian" (the conditional space is
            flattened for it). Defaults to "random".
        max_trials: trials of random and Bayesian search. Defaults to 4.
        epochs: epochs per trial (Hyperband's `max_epochs`). Defaults to 1.
        directory: the folder where Keras Tuner keeps the search.
        project_name: the search's subfolder of `directory`.
        resume: continue the search in that directory (Keras Tuner's
            `overwrite=False`); without it an existing search is refused.
        seed: the tuner's seed. Defaults to 0.
        verbose: `fit` verbosity. Defaults to 1.
        callbacks: more callbacks for every trial's `fit`.
        settings: a dict of JSON values describing the data (images,
            batch size, ...), recorded with the search like the
            hypermodel's and the tuner's own settings.

    A search records its settings in `<project>/keras_chattn_search.json`;
    `resume=True` with other settings (blocks, epochs, data, tuner) is
    refused with the list of differences, since its trials would not be
    comparable with the earlier ones. Only `max_trials` may change (to
    search longer).

    Failed trials (an error while building or training, or a NaN loss) are
    recorded as FAILED and the search goes on (up to 3 in a row). The best
    model is saved once, as `<project>/best_model.keras`, each time a trial
    beats the best so far; trials keep no other weights (except Hyperband's
    one file per trial, which it continues trials from).
    """
    started = time.perf_counter()
    if hypermodel is None:
        hypermodel = AttentionHyperModel(
            epochs=epochs, steps_per_epoch=max(1, len(train))
        )
    engine = make_tuner(
        hypermodel,
        tuner=tuner,
        max_trials=max_trials,
        epochs=epochs,
        directory=directory,
        project_name=project_name,
        resume=resume,
        seed=seed,
    )
    if environment.is_tuner_chief():
        _check_search_settings(
            pathlib.Path(engine.project_dir),
            {
                "tuner": tuner,
                "epochs": epochs,
                "seed": seed,
                "hypermodel": hypermodel.settings(),
                "data": json.loads(json.dumps(settings or {}, default=repr)),
            },
            resume,
        )
    engine.search(
        train,
        validation_data=validation,
        epochs=epochs,
        callbacks=list(callbacks),
        verbose=verbose,
        shuffle=False,  # the pipelines shuffle themselves
    )
    project_dir = pathlib.Path(engine.project_dir)
    if not environment.is_tuner_chief():
        # A distributed worker: the chief holds the oracle and the results.
        return SearchResults(
            rows=[],
            best_hyperparameters={},
            best_model_path=project_dir / BEST_MODEL,
            project_dir=project_dir,
            wall_time_s=time.perf_counter() - started,
            is_chief=False,
        )
    rows = trial_rows(engine)
    best = engine.get_best_hyperparameters(1)
    return SearchResults(
        rows=rows,
        best_hyperparameters=best[0].values if best else {},
        best_model_path=project_dir / BEST_MODEL,
        project_dir=project_dir,
        wall_time_s=time.perf_counter() - started,
    )


def _check_search_settings(project_dir, current, resume):
    path = project_dir / SETTINGS
    if resume and path.exists():
        previous = json.loads(path.read_text())
        changed = _differences(previous, current)
        if changed:
            raise ValueError(
                f"Cannot resume the search in {project_dir} with other "
                "settings (its trials would not be comparable): "
                + "; ".join(
                    f"{key}: {old!r} there, {new!r} now"
                    for key, (old, new) in changed
                )
                + ". Resume with the same settings, or search in another "
                "directory."
            )
    files.write_json(path, current)


def _differences(previous, current, prefix=""):
    keys = sorted(set(previous) | set(current))
    changed = []
    for key in keys:
        old, new = previous.get(key), current.get(key)
        name = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            changed += _differences(old, new, f"{name}.")
        elif old != new:
            changed.append((name, (old, new)))
    return changed


def trial_rows(engine: keras_tuner.Tuner) -> list[dict[str, Any]]:
    """One dict per trial of `engine` (all statuses), in trial order."""
    rows = []
    for trial_id, trial in sorted(engine.oracle.trials.items()):
        values = trial.hyperparameters.values
        block = values.get("attention", "")
        settings = {
            argument: values[hyperparameter_name(block, argument)]
            for argument in search_space(block)
            if block
            if hyperparameter_name(block, argument) in values
        }
        for key in ("learning_rate", "weight_decay"):
            if key in values:
                settings[key] = round(values[key], 5)
        record_path = pathlib.Path(engine.get_trial_dir(trial_id)) / RECORD
        record = (
            json.loads(record_path.read_text()) if record_path.exists() else {}
        )
        rows.append(
            {
                "trial": trial_id,
                "status": trial.status,
                "block": block,
                "hyperparameters": " ".join(
                    f"{key}={value}" for key, value in settings.items()
                ),
                "best_val_accuracy": record.get("best_val_accuracy", math.nan),
                "parameters": record.get("parameters", ""),
                "time_s": record.get("time_s", math.nan),
            }
        )
    return rows


def write_results(results: SearchResults, directory: PathLike) -> None:
    """results.csv, best_hyperparameters.json and trials.png in `directory`."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(results.rows)
    (directory / "best_hyperparameters.json").write_text(
        json.dumps(results.best_hyperparameters, indent=2) + "\n"
    )
    plot_trials(results.rows, directory / "trials.png")


def plot_trials(rows, path):
    """Validation accuracy per trial, coloured by block."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    blocks = sorted({row["block"] for row in rows})
    colours = plt.get_cmap("tab10")
    for index, block in enumerate(blocks):
        points = [
            (position, row["best_val_accuracy"])
            for position, row in enumerate(rows)
            if row["block"] == block
        ]
        axis.scatter(
            [p for p, _ in points],
            [v for _, v in points],
            color=colours(index % 10),
            label=block,
            s=60,
        )
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("trial")
    axis.set_ylabel("best validation accuracy")
    axis.grid(alpha=0.3)
    axis.legend(title="block")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
