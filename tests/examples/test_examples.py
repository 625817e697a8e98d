"""The examples' CIFAR reader on the real files, and the examples end to end."""

import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
DATA = EXAMPLES.parent.parent / "shared" / "data" / "cifar-10-batches-py"
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"the shared CIFAR-10 files are not at {DATA}"
)
sys.path.insert(0, str(EXAMPLES))
import cifar_files  # noqa: E402


@needs_data
def test_reads_the_real_files():
    (x_train, y_train), (x_val, y_val) = cifar_files.load_cifar10(DATA)
    assert x_train.shape == (4068, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_val.shape == (1017, 32, 32, 3) and y_val.shape == (1017,)
    assert set(np.unique(y_train)) == set(range(10))
    assert 0 < x_train.mean() < 255


def test_refuses_a_pickle_that_would_run_code(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("code ran",))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": [0]}))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load"):
        cifar_files.load_cifar10_batch(path)


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
