"""A re-run or a resumed search with other settings is refused, listing
them; more epochs are allowed only when asked for, and recorded."""

import importlib

import keras
import pytest

from keras_chattn.training import Backup
from keras_chattn.training import read_history
from keras_chattn.training import run_folder
from tests.data.shared import DATA
from tests.data.shared import needs_data
from tests.examples.scripts import load_example as load


@pytest.fixture(scope="module")
def example():
    return load("cifar10_resnet50")


def argv(folder, *extra):
    return ["--model", "cifar_resnet20", "--output-dir", str(folder), *extra]


def settings(example, folder, *extra):
    args = example.parse_arguments(argv(folder, "--epochs", "4", *extra))
    return {k: v for k, v in vars(args).items() if k not in example.FREE_FLAGS}


def started(example, folder, *extra):
    """A run folder as a run of 4 epochs leaves it after 2 (its backup)."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    backup = Backup(folder / "backup", settings(example, folder, *extra))
    backup.set_model(model)
    backup.on_train_begin()
    for epoch in range(2):
        backup.on_epoch_end(epoch)
    backup.on_train_end()
    (folder / "history.csv").write_text("epoch,loss\n1,1.0\n2,1.0\n")
    return folder


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--mixed-precision", "float16"], "mixed_precision: 'none' there"),
        (["--lr", "0.3"], "lr: None there, 0.3 now"),
        (["--schedule", "step"], "schedule: 'cosine' there, 'step' now"),
        (["--pipeline", "arrays"], "pipeline: 'auto' there, 'arrays' now"),
        (["--seed", "1"], "seed: 0 there, 1 now"),
        (["--attention", "se"], "attention: 'cbam' there, 'se' now"),
    ],
)
def test_changed_setting_is_refused(example, tmp_path, flags, named):
    folder = started(example, tmp_path / "run")
    with pytest.raises(SystemExit, match="a run with other settings") as e:
        example.main(argv(folder, "--epochs", "4", *flags))
    assert named in str(e.value)


def test_more_epochs_need_extend_and_fewer_are_refused(example, tmp_path):
    folder = started(example, tmp_path / "run")
    with pytest.raises(SystemExit, match=r"Extend it explicitly \(extend="):
        example.main(argv(folder, "--epochs", "6"))
    with pytest.raises(SystemExit, match="cannot be shortened to 2"):
        example.main(argv(folder, "--epochs", "2"))


def test_free_settings_may_change(example, tmp_path):
    folder = started(example, tmp_path / "run")
    free = settings(example, folder, "--verbose", "0", "--export")
    with run_folder(folder, free) as done:
        assert done == 2


@needs_data
@pytest.mark.slow
def test_extended_run_trains_the_extra_epochs(example, tmp_path):
    common = [
        "--data-dir", str(DATA), "--limit", "64", "--batch-size", "32",
        "--verbose", "0", "--attention", "none",
    ]  # fmt: skip
    example.main(argv(tmp_path, "--epochs", "1", *common))
    summary = example.main(argv(tmp_path, "--epochs", "2", "--extend", *common))
    assert [r["epoch"] for r in read_history(tmp_path / "history.csv")] == [
        1,
        2,
    ]
    assert summary["epochs"] == 2


@pytest.fixture
def tuning():
    return pytest.importorskip("keras_chattn.tuning")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_trials": 0}, r"max_trials must be a positive integer.*=0"),
        ({"max_trials": -2}, r"max_trials must be a positive integer.*=-2"),
        ({"epochs": 0}, r"epochs must be a positive integer"),
        ({"tuner": "grid"}, r"tuner must be one of \['random', 'hyperband'"),
    ],
)
def test_tuner_arguments_are_checked(tuning, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tuning.make_tuner(
            tuning.AttentionHyperModel(), directory=str(tmp_path), **kwargs
        )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"classes": 0}, r"classes must be a positive integer"),
        ({"epochs": 0}, r"epochs must be a positive integer"),
        ({"blocks": ["se", "eca2"]}, r"blocks must be a non-empty list"),
    ],
)
def test_hypermodel_arguments_are_checked(tuning, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tuning.AttentionHyperModel(**kwargs)


def test_resumed_search_with_other_settings_is_refused(tuning, tmp_path):
    import numpy as np

    first = tuning.AttentionHyperModel(blocks=["none", "se"], epochs=1)
    project = tmp_path / "search"
    project.mkdir()
    tuners = importlib.import_module("keras_chattn.tuning.tuners")

    settings = {
        "tuner": "random",
        "epochs": 1,
        "seed": 0,
        "hypermodel": first.settings(),
        "data": {"limit": 64},
    }
    tuners.check_settings(project, settings, resume=False)
    x = np.zeros((4, 32, 32, 3), "float32")
    y = np.zeros((4,), "int32")
    other = tuning.AttentionHyperModel(blocks=["none", "cbam"], epochs=1)
    with pytest.raises(
        ValueError, match=r"hypermodel.blocks: \['none', 'se'\]"
    ):
        tuning.search(
            (x, y),
            (x, y),
            hypermodel=other,
            directory=str(tmp_path),
            project_name="search",
            resume=True,
            settings={"limit": 64},
            max_trials=1,
        )
    with pytest.raises(ValueError, match=r"data.limit: 64 there, 128 now"):
        tuning.search(
            (x, y),
            (x, y),
            hypermodel=first,
            directory=str(tmp_path),
            project_name="search",
            resume=True,
            settings={"limit": 128},
            max_trials=1,
        )
