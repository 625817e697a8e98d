"""What this process can reach: optional packages, the network, caches.

Each question is answered in one place: whether TensorFlow is installed,
whether a host answers (checked before a download, so that offline use fails
in seconds instead of after minutes of retries), where Keras keeps its
downloads, and whether this process is a distributed Keras Tuner worker.
"""

import os
import pathlib
import socket

CONNECT_TIMEOUT_SECONDS = 3.0
TUNER_ID_VARIABLE = "KERASTUNER_TUNER_ID"


def tensorflow_available() -> bool:
    """True when TensorFlow can be imported."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def tensorboard_available():
    """True when TensorFlow and tensorboard (which TensorFlow 2.21 no longer
    installs) can both be imported: what Keras' TensorBoard callback needs."""
    import importlib.util

    return tensorflow_available() and (
        importlib.util.find_spec("tensorboard") is not None
    )


def import_tensorflow(needed_for):
    """TensorFlow, or an ImportError saying what needed it and what to do."""
    try:
        import tensorflow as tf
    except ImportError:
        raise ImportError(
            f"{needed_for} needs TensorFlow (`pip install tensorflow`). "
            "Without it, use keras_chattn.data.load_cifar_arrays with "
            "keras_chattn.data.CifarBatches, which run on every backend."
        ) from None
    return tf


def reachable(host, timeout=CONNECT_TIMEOUT_SECONDS):
    """Whether a TCP connection to `host` = (name, port) opens in time."""
    try:
        with socket.create_connection(host, timeout=timeout):
            return True
    except OSError:
        return False


def keras_home():
    """`$KERAS_HOME`, else `~/.keras`: where Keras caches downloads."""
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return pathlib.Path(home)


def tuner_id():
    """This process's Keras Tuner id: "chief" unless a distributed worker."""
    return os.environ.get(TUNER_ID_VARIABLE, "chief")


def is_tuner_chief():
    """False only in a distributed Keras Tuner worker process."""
    return tuner_id() == "chief"
