"""Running Python code in a fresh process, for tests that need one."""

import os
import subprocess
import sys


def run_python(code, env=None, timeout=300):
    """Runs `code` with this interpreter; asserts it exits 0; returns it."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
    )
    assert completed.returncode == 0, (
        completed.stdout[-2000:] + completed.stderr[-3000:]
    )
    return completed
