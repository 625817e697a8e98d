"""Keras Tuner's chief/worker mode runs examples/tune_cifar10.py unchanged."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

from tests.data.shared import DATA
from tests.data.shared import needs_data

SCRIPT = (
    pathlib.Path(__file__).resolve().parents[2] / "examples" / "tune_cifar10.py"
)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
@needs_data
def test_chief_and_two_workers_on_localhost(tmp_path):
    port = str(free_port())
    argv = [
        sys.executable,
        str(SCRIPT),
        "--data-dir",
        str(DATA),
        "--max-trials",
        "4",
        "--epochs",
        "1",
        "--limit",
        "128",
        "--batch-size",
        "64",
        "--blocks",
        "none,se",
        "--directory",
        str(tmp_path),
        "--verbose",
        "0",
    ]
    processes = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = {
            **os.environ,
            "KERASTUNER_TUNER_ID": tuner_id,
            "KERASTUNER_ORACLE_IP": "127.0.0.1",
            "KERASTUNER_ORACLE_PORT": port,
        }
        processes[tuner_id] = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    outputs = {}
    for tuner_id, process in processes.items():
        outputs[tuner_id] = process.communicate(timeout=900)[0]
        assert process.returncode == 0, (
            f"{tuner_id}:\n{outputs[tuner_id][-3000:]}"
        )
    records = [
        json.loads(path.read_text())
        for path in tmp_path.glob("search/trial_*/keras_chattn_trial.json")
    ]
    assert len(records) == 4
    assert {record["tuner_id"] for record in records} == {"tuner0", "tuner1"}
    assert "4 trials" in outputs["chief"]
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 5
