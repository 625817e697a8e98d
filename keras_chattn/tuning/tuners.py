"""A Keras Tuner search over attention blocks.

The tuners, their trials and scores, and the best models are keras-tuner's
own: its oracle keeps every trial, `get_best_models` reloads the best epoch's
weights from the trial's checkpoint. This module adds only what keras-tuner
lacks: a resumed search made with other settings is refused (its trials would
not be comparable), and the best model is saved once, as one `.keras` file.
"""

import csv
import dataclasses
import json
import math
import pathlib
import time
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import keras_tuner

from keras_chattn.tuning.descriptions import block_settings
from keras_chattn.tuning.descriptions import describe
from keras_chattn.tuning.descriptions import stages_in
from keras_chattn.tuning.hypermodel import AttentionHyperModel
from keras_chattn.utils import environment
from keras_chattn.utils import files
from keras_chattn.utils import validation
from keras_chattn.utils.types import PathLike

TUNERS = {
    "random": keras_tuner.RandomSearch,
    "hyperband": keras_tuner.Hyperband,
    "bayesian": keras_tuner.BayesianOptimization,
}
OBJECTIVE = "val_accuracy"
SETTINGS = "keras_chattn_search.json"
BEST_MODEL = "best_model.keras"
COLUMNS = (
    "trial",
    "status",
    "block",
    "hyperparameters",
    OBJECTIVE,
    "parameters",
)


@dataclasses.dataclass
class SearchResults:
    """What `search` found: one row per trial, the best, where it is."""

    rows: list
    best_hyperparameters: dict
    best_model_path: pathlib.Path
    project_dir: pathlib.Path
    wall_time_s: float
    # False in a distributed worker, whose trials the chief's oracle holds.
    is_chief: bool = True

    def table(self):
        """The rows as a Markdown table."""
        lines = ["| " + " | ".join(COLUMNS) + " |", "|---" * len(COLUMNS) + "|"]
        for row in self.rows:
            cells = (_cell(row[column]) for column in COLUMNS)
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def best_line(self):
        """The best configuration in one line, e.g. `cbam(reduction=8,
        spatial_kernel_size=5) at post; learning_rate=0.05`, which
        `AttentionHyperModel.rebuild` builds again."""
        return describe(self.best_hyperparameters)


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
    """The keras-tuner tuner for `search` (see there); refuses to reuse a
    directory unless `resume`."""
    validation.choice("tuner", tuner, tuple(TUNERS), ordered=True)
    # Keras Tuner reads max_trials=0 as "no limit" and a negative count as
    # "none": both are refused here.
    validation.positive_int("max_trials", max_trials)
    validation.positive_int("epochs", epochs)
    validation.positive_int(
        "max_consecutive_failed_trials", max_consecutive_failed_trials
    )
    project_dir = pathlib.Path(directory) / project_name
    # Only the chief refuses: distributed workers join the chief's folder.
    if environment.is_tuner_chief() and not resume:
        if (project_dir / "oracle.json").exists():
            raise FileExistsError(
                f"{project_dir} already holds a search. Pass resume=True "
                "(--resume) to continue it, or choose another directory."
            )
    if tuner == "bayesian" and hypermodel.conditional:
        hypermodel = hypermodel.flattened()
    length = {"max_epochs": epochs, "factor": 3}
    if tuner != "hyperband":
        length = {"max_trials": max_trials}
    return TUNERS[tuner](
        hypermodel=hypermodel,
        objective=keras_tuner.Objective(OBJECTIVE, "max"),
        directory=str(directory),
        project_name=project_name,
        overwrite=False,
        seed=seed,
        max_consecutive_failed_trials=max_consecutive_failed_trials,
        **length,
    )


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
    refused naming each difference. Only `max_trials` may change.

    A trial that fails (an error while building or training, or a NaN
    loss) is recorded as FAILED by keras-tuner and the search goes on (up to
    3 in a row). At the end the best trial's best epoch is saved once, as
    `<project>/best_model.keras`.
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
    project_dir = pathlib.Path(engine.project_dir)
    chief = environment.is_tuner_chief()
    if chief:
        check_settings(
            project_dir,
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
    results = SearchResults(
        rows=trial_rows(engine) if chief else [],
        best_hyperparameters={},
        best_model_path=project_dir / BEST_MODEL,
        project_dir=project_dir,
        wall_time_s=0.0,
        is_chief=chief,
    )
    best = engine.get_best_hyperparameters(1) if chief else []
    if best:
        results.best_hyperparameters = best[0].values
        with warnings.catch_warnings():
            # keras-tuner rebuilds the model with its optimizer unbuilt: Keras
            # warns that it skips the checkpoint's optimizer variables.
            warnings.filterwarnings("ignore", "Skipping variable loading")
            (model,) = engine.get_best_models(1)
        model.optimizer.build(model.trainable_variables)
        with files.atomic_write(results.best_model_path) as temporary:
            model.save(temporary)
    results.wall_time_s = time.perf_counter() - started
    return results


def check_settings(project_dir, current, resume):
    """Refuses to resume the search in `project_dir` with other settings
    than `current` (nested dicts compared key by key); records them."""
    path = pathlib.Path(project_dir) / SETTINGS
    if resume and path.exists():
        changed = _differences(json.loads(path.read_text()), current)
        if changed:
            raise ValueError(
                f"Cannot resume the search in {project_dir} with other "
                "settings (its trials would not be comparable): "
                + "; ".join(
                    f"{key}: {old!r} there, {new!r} now"
                    for key, old, new in changed
                )
                + ". Resume with the same settings, or search in another "
                "directory."
            )
    files.write_json(path, current)


def _differences(previous, current, prefix=""):
    changed = []
    for key in sorted(set(previous) | set(current)):
        old, new = previous.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            changed += _differences(old, new, f"{prefix}{key}.")
        elif old != new:
            changed.append((f"{prefix}{key}", old, new))
    return changed


def trial_rows(engine: keras_tuner.Tuner) -> list[dict[str, Any]]:
    """One dict per trial of `engine`'s oracle (all statuses), in order."""
    rows = []
    for trial_id, trial in sorted(engine.oracle.trials.items()):
        values = trial.hyperparameters.values
        stages = stages_in(values)
        blocks = [block_settings(values, s)[0] for s in stages or [None]]
        metrics = trial.metrics
        parameters = ""
        if metrics.exists("parameters"):
            parameters = int(metrics.get_last_value("parameters"))
        rows.append(
            {
                "trial": trial_id,
                "status": trial.status,
                "block": "/".join(block or "none" for block in blocks),
                "hyperparameters": describe(values),
                OBJECTIVE: math.nan if trial.score is None else trial.score,
                "parameters": parameters,
            }
        )
    return rows


def write_results(results: SearchResults, directory: PathLike) -> None:
    """results.csv and best_hyperparameters.json in `directory`."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(results.rows)
    files.write_json(
        directory / "best_hyperparameters.json", results.best_hyperparameters
    )
