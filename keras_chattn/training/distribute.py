"""The distribution strategies a CIFAR run can use, on each backend."""

import contextlib
import json
import os

import keras

from keras_chattn.utils import validation

STRATEGIES = ("none", "mirrored", "multiworker")


def distribution_scope(
    strategy: str = "none",
) -> contextlib.AbstractContextManager:
    """A context manager to build and compile the model under.

    - "none": one device.
    - "mirrored": every local GPU (or the CPU). TensorFlow backend:
      `tf.distribute.MirroredStrategy`; JAX backend:
      `keras.distribution.DataParallel` over the local devices.
    - "multiworker": several machines, TensorFlow backend only:
      `tf.distribute.MultiWorkerMirroredStrategy`, configured by the
      `TF_CONFIG` environment variable (which must be set).

    With a strategy, the dataset's batch size is the global batch, split
    across the replicas; build the model and the recipe (optimizer) inside
    the scope.

    Args:
        strategy: "none", "mirrored" or "multiworker". Defaults to "none".

    Returns:
        A context manager.

    Examples:

        >>> from keras_chattn.training import distribution_scope
        >>> with distribution_scope("none"):
        ...     pass
    """
    validation.choice("strategy", strategy, STRATEGIES)
    if strategy == "none":
        return contextlib.nullcontext()
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if strategy == "mirrored":
            return tf.distribute.MirroredStrategy().scope()
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy().scope()
    if backend == "jax" and strategy == "mirrored":
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext()
    raise ValueError(
        f"strategy={strategy!r} is not available on the {backend} backend: "
        "'mirrored' needs the TensorFlow or JAX backend and 'multiworker' the "
        "TensorFlow backend (set KERAS_BACKEND). Received: "
        f"strategy={strategy!r}"
    )


def _check_tf_config():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ValueError(
            "strategy='multiworker' needs the TF_CONFIG environment variable "
            "describing the cluster and this worker's task, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}. It is not set.'
        )
    try:
        config = json.loads(raw)
        config["cluster"]["worker"]
        config["task"]["index"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            "TF_CONFIG must be JSON with cluster.worker (a list of host:port) "
            f"and task.index. Received: TF_CONFIG={raw!r}"
        ) from None
