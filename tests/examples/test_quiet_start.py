"""The examples hold back TensorFlow's start-up lines.

examples/_quiet_tensorflow.py, imported first by every example.

The first test runs an example's `--help` twice in a fresh process: with
`TF_CPP_MIN_LOG_LEVEL=0` (everything shown) and with it unset (as a user
runs it). Whatever TensorFlow printed at start-up in the first is absent
from the second, and the help itself is printed in both.
"""

import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
START_UP = ("absl::InitializeLog", "cudart_stub.cc", "oneDNN custom operations")


def run_help(script, level):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_BACKEND"] = "tensorflow"
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--help"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_start_up_lines_are_held_back(script="cifar10_resnet50.py"):
    shown = run_help(script, "0")
    assert shown.returncode == 0, shown.stderr[-2000:]
    printed = [line for line in START_UP if line in shown.stderr]
    if not printed:
        pytest.skip("TensorFlow printed no start-up lines on this machine")
    quiet = run_help(script, None)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "usage:" in quiet.stdout
    held = [line for line in printed if line in quiet.stderr]
    assert not held, quiet.stderr[-2000:]


def test_a_failed_import_shows_what_was_held_back(tmp_path):
    # A keras that cannot import: its message must reach the user.
    (tmp_path / "keras.py").write_text(
        "import sys\nsys.stderr.write('broken keras install\\n')\n"
        "raise ImportError('no keras here')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", "import _quiet_tensorflow"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k != "TF_CPP_MIN_LOG_LEVEL"
            },
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(EXAMPLES)]),
        },
    )
    assert completed.returncode != 0
    assert "broken keras install" in completed.stderr
    assert "no keras here" in completed.stderr
