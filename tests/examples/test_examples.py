"""The small examples end to end (slow)."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
DATA = EXAMPLES.parent.parent / "shared" / "data" / "cifar-10-batches-py"
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"the shared CIFAR-10 files are not at {DATA}"
)


@pytest.mark.slow
@needs_data
@pytest.mark.parametrize(
    "script, args",
    [
        ("attention_quickstart.py", ["--attention", "cbam", "--epochs", "1"]),
        ("c3_diversity.py", ["--epochs", "1"]),
        ("cc_excitation.py", ["--epochs", "1"]),
    ],
)
def test_example_runs(script, args, tmp_path):
    extra = (
        ["--out", str(tmp_path)] if script == "attention_quickstart.py" else []
    )
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--data-dir", str(DATA)]
        + args
        + extra,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "val accuracy" in completed.stdout
