"""A placement search on the shared images, SIGKILLed after its first
trial, resumes with --resume: the finished trial is kept, the search
completes, and its best line rebuilds the best network."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import keras
import pytest

from keras_chattn import tuning
from tests.data.shared import DATA
from tests.data.shared import needs_data

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "tune_cifar10.py"


def command(directory, *extra):
    return [
        sys.executable, str(SCRIPT), "--data-dir", str(DATA),
        "--per-stage", "--positions", "all", "--every", "1,2",
        "--blocks", "none,se,cbam", "--max-trials", "2", "--epochs", "1",
        "--limit", "192", "--batch-size", "64", "--verbose", "0",
        "--directory", str(directory), *extra,
    ]  # fmt: skip


def layer_names(model):
    """The model's layer names but its input's (numbered per process)."""
    return [
        layer.name
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]


def status(trial_file):
    try:
        return json.loads(trial_file.read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None


@needs_data
@pytest.mark.slow
def test_killed_placement_search_resumes(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = tmp_path / "search" / "trial_0" / "trial.json"
    process = subprocess.Popen(
        command(tmp_path), env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while status(first) != "COMPLETED":
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the first trial never finished"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    kept = json.loads(first.read_text())

    refused = subprocess.run(
        command(tmp_path), env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert refused.returncode != 0 and "resume=True" in refused.stderr
    resumed = subprocess.run(
        command(tmp_path, "--resume"), env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(first.read_text()) == kept  # not trained again
    rows = (tmp_path / "results.csv").read_text().splitlines()[1:]
    assert len(rows) == 2 and all(",COMPLETED," in row for row in rows)

    best_line = resumed.stdout.split("Best: ")[1].split(". Results in")[0]
    assert best_line.startswith("stage1: ")
    hypermodel = tuning.AttentionHyperModel(
        blocks=["none", "se", "cbam"], per_stage=True, positions="all",
        every=[1, 2], steps_per_epoch=3,
    )  # fmt: skip
    rebuilt = hypermodel.rebuild(best_line)
    best = keras.saving.load_model(tmp_path / "search" / "best_model.keras")
    assert layer_names(rebuilt) == layer_names(best)
    assert rebuilt.count_params() == best.count_params()
