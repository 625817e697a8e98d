"""A run SIGKILLed at any write resumes to exactly the uninterrupted run.

Each case starts examples/cifar10_resnet50.py in a subprocess that kills
itself at one write (`kill_driver.py`), runs the same command again, and
compares the folder with one left by an uninterrupted run: the history
(every epoch once, the same numbers), the final weights and optimizer
state (bit for bit, the last backup), the best model and summary.json.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest

from keras_chattn.training import read_history
from tests.data.shared import DATA
from tests.data.shared import needs_data

DRIVER = pathlib.Path(__file__).with_name("kill_driver.py")
ROOT = pathlib.Path(__file__).resolve().parents[2]
EPOCHS = 2


def run_driver(output_dir, name="none", when="after", count=0, extra=()):
    argv = [
        "--model", "cifar_resnet20", "--attention", "se",
        "--limit", "96", "--batch-size", "32", "--epochs", str(EPOCHS),
        "--data-dir", str(DATA), "--verbose", "0",
        "--output-dir", str(output_dir), *extra,
    ]  # fmt: skip
    return subprocess.run(
        [sys.executable, str(DRIVER), name, when, str(count), "--", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def h5_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda key, item: (
                arrays.__setitem__(key, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


def keras_file_arrays(path, tmp_path):
    import zipfile

    with zipfile.ZipFile(path) as archive:
        archive.extract("model.weights.h5", tmp_path)
    return h5_arrays(tmp_path / "model.weights.h5")


def without_times(history):
    return [
        {k: v for k, v in row.items() if k != "train_time_s"} for row in history
    ]


def assert_same_arrays(got, expected):
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uninterrupted")
    completed = run_driver(folder)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return folder


KILL_POINTS = [
    # (file, when, which write of it): every write of an epoch's end, in
    # the order they happen (best model, history row, backup, backup
    # record), and the summary at the very end.
    ("best_model.keras", "during", 1),
    ("history.csv", "during", 1),
    ("history.csv", "after", 1),
    ("epoch-0001.keras", "during", 1),
    ("training_metadata.json", "during", 1),
    ("training_metadata.json", "after", 1),
    ("history.csv", "after", 2),
    ("epoch-0002.keras", "during", 1),
    ("training_metadata.json", "after", 2),
    ("summary.json", "during", 1),
]


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, when, count",
    KILL_POINTS,
    ids=[f"{n}-{w}-{c}" for n, w, c in KILL_POINTS],
)
def test_killed_run_resumes_to_the_uninterrupted_result(
    reference, tmp_path, name, when, count
):
    run = tmp_path / "run"
    killed = run_driver(run, name, when, count)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = run_driver(run)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    history = read_history(run / "history.csv")
    assert [row["epoch"] for row in history] == list(range(1, EPOCHS + 1))
    assert without_times(history) == without_times(
        read_history(reference / "history.csv")
    )
    final = f"backup/epoch-{EPOCHS:04d}.keras"
    for folder in ("a", "b", "c", "d"):
        (tmp_path / folder).mkdir()
    assert_same_arrays(
        keras_file_arrays(run / final, tmp_path / "c"),
        keras_file_arrays(reference / final, tmp_path / "d"),
    )
    assert sorted(p.name for p in (run / "backup").iterdir()) == [
        f"epoch-{EPOCHS:04d}.keras",
        "training_metadata.json",
    ]
    assert_same_arrays(
        keras_file_arrays(run / "best_model.keras", tmp_path / "a"),
        keras_file_arrays(reference / "best_model.keras", tmp_path / "b"),
    )
    summary = json.loads((run / "summary.json").read_text())
    expected = json.loads((reference / "summary.json").read_text())
    for key in (
        "epochs",
        "best_epoch",
        "best_test_accuracy",
        "final_test_accuracy",
    ):
        assert summary[key] == expected[key], key
    assert not list(run.rglob("*.partial*")), "a temporary file was left"


@needs_data
@pytest.mark.slow
def test_finished_run_trains_nothing_more(reference, tmp_path):
    again = run_driver(reference)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"All {EPOCHS} epochs are done" in again.stdout
    assert len(read_history(reference / "history.csv")) == EPOCHS
