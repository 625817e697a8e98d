"""Test-session settings shared by every test module."""

import os

# Quiet TensorFlow's C++ start-up logging in the test process and in the
# fresh processes the harness starts (they inherit the environment).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a float32 policy and a fixed seed."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")


def pytest_sessionfinish(session, exitstatus):
    """Ends the harness's loader processes (see tests/harness.py)."""
    from tests.harness import LoaderProcess

    LoaderProcess.stop_all()
