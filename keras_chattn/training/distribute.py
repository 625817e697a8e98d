"""The distribution strategies a CIFAR run can use, on each backend."""

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

import keras

from keras_chattn.utils import validation

STRATEGIES = ("none", "mirrored", "multiworker")
# Keras' own names for a JAX cluster (`keras.distribution.initialize`).
JAX_CLUSTER = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "KERAS_DISTRIBUTION_PROCESS_ID",
)
_STARTUP = (
    "strategy='multiworker' must be created before {engine} runs anything "
    "in this process: it configures {engine}'s collectives at start-up. "
    "Call distribution_scope('multiworker') first, before building "
    "datasets, tensors or models (and enter its scope later)."
)


class Worker(NamedTuple):
    """This process's place in a multi-worker run: `index` of `count`.
    The chief (index 0) writes the run's files; the others only train."""

    index: int
    count: int

    @property
    def chief(self) -> bool:
        return self.index == 0


_tf_worker = Worker(0, 1)  # set when this process joins a TensorFlow cluster
# What the engines' errors say when another worker is gone (TensorFlow's
# collectives, gRPC and health check; JAX's Gloo and coordination service).
_PEER_LOST = (
    "Connection reset by peer",
    "Collective ops is aborted",
    "Socket closed",
    "failed to connect",
    "heartbeat timeout",
    "Gloo",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
)


class WorkerLost(RuntimeError):
    """Another worker of this multi-worker run stopped mid-training."""


@contextlib.contextmanager
def peers_watched() -> Iterator[None]:
    """Raises `WorkerLost`, saying what to do, where the engine reports
    that another worker of the run is gone (killed, crashed or out of
    reach); other errors pass through unchanged.

    Example:

        >>> from keras_chattn.training import peers_watched
        >>> with peers_watched():
        ...     pass
    """
    try:
        yield
    except Exception as error:
        here = worker()
        text = str(error)
        if here.count == 1 or not any(sign in text for sign in _PEER_LOST):
            raise
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        telling = [line for line in lines if any(s in line for s in _PEER_LOST)]
        first = (telling or lines or [""])[0]
        raise WorkerLost(
            f"worker {here.index} of {here.count}: another worker of the run "
            f"stopped, so this one cannot go on ({type(error).__name__}: "
            f"{first[:300]}). The backup holds every epoch finished "
            "before it; start the same command on every worker again to "
            "resume from there."
        ) from None


def distribution_scope(
    strategy: str = "none",
) -> contextlib.AbstractContextManager:
    """A context manager to build and compile the model under.

    - "none": one device.
    - "mirrored": every local GPU (or the CPU). TensorFlow backend:
      `tf.distribute.MirroredStrategy`; JAX backend:
      `keras.distribution.DataParallel` over the local devices.
    - "multiworker": several processes, usually on several machines, each
      running the same program. TensorFlow backend:
      `tf.distribute.MultiWorkerMirroredStrategy`, configured by the
      `TF_CONFIG` environment variable; JAX backend: `jax.distributed`
      through `keras.distribution.initialize` (configured by
      `KERAS_DISTRIBUTION_JOB_ADDRESSES`, `KERAS_DISTRIBUTION_NUM_PROCESSES`
      and `KERAS_DISTRIBUTION_PROCESS_ID`) and `DataParallel` over every
      process's devices. Call it before anything else runs on the backend:
      both engines configure their collectives at start-up.

    With a strategy, the dataset's batch size is the global batch, split
    across the replicas (a multi-worker run gives each worker its part of
    every batch); build the model and the recipe (optimizer) inside the
    scope. `worker()` then says which process this is: only the chief
    writes the run's files.

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
        return _tensorflow_multiworker(tf).scope()
    if backend == "jax":
        if strategy == "multiworker":
            _join_jax_cluster()
        # Each process feeds its part of every batch (`worker_part`): Keras'
        # own sharding needs a dataset whose batch size it can read.
        distribution = keras.distribution.DataParallel(
            devices=keras.distribution.list_devices(),
            auto_shard_dataset=False,
        )
        keras.distribution.set_distribution(distribution)
        return contextlib.nullcontext()
    raise ValueError(
        f"strategy={strategy!r} is not available on the {backend} backend: "
        "'mirrored' and 'multiworker' need the TensorFlow or JAX backend "
        f"(set KERAS_BACKEND). Received: strategy={strategy!r}"
    )


def worker() -> Worker:
    """This process's `Worker(index, count)`: `Worker(0, 1)` unless it
    joined a multi-worker run (`distribution_scope("multiworker")`, or a
    multi-process Keras distribution set otherwise).

    Example:

        >>> from keras_chattn.training import worker
        >>> worker()
        Worker(index=0, count=1)
    """
    distribution = keras.distribution.distribution()
    if distribution is not None and getattr(
        distribution, "_is_multi_process", False
    ):
        return Worker(distribution._process_id, distribution._num_processes)
    return _tf_worker


def worker_part(dataset: Any) -> Any:
    """`dataset`'s batches as this process feeds them in a multi-worker
    JAX run: rows `index * n / count` to `(index + 1) * n / count` of each
    batch of n (the last rows of a batch that does not split evenly are
    left out, at most `count - 1`). Elsewhere `dataset` itself: one
    process, or TensorFlow's strategy, which splits each batch itself.

    Args:
        dataset: a `tf.data.Dataset` of `(inputs, targets)` batches, the
            global batch (the same on every worker: the package's
            pipelines make it from the seed, the epoch and the index).

    Returns:
        A `tf.data.Dataset`.

    Example:

        >>> import tensorflow as tf
        >>> from keras_chattn.training import worker_part
        >>> batches = tf.data.Dataset.range(4).batch(2).map(lambda x: (x, x))
        >>> worker_part(batches) is batches
        True
    """
    here = worker()
    if here.count == 1 or keras.backend.backend() != "jax":
        return dataset
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        raise ValueError(
            "a multi-worker JAX run feeds each process its part of every "
            "batch from a tf.data.Dataset (keras_chattn.data.cifar_dataset; "
            "the example's --pipeline tfdata). Received: "
            f"{type(dataset).__name__}"
        )

    def part(*batch):
        rows = tf.shape(tf.nest.flatten(batch)[0])[0] // here.count
        start = here.index * rows
        return tf.nest.map_structure(lambda x: x[start : start + rows], batch)

    return dataset.map(part)


def _tensorflow_multiworker(tf):
    global _tf_worker
    cluster = _read_tf_config()
    try:
        strategy = _keras_multiworker_strategy(tf)()
    except RuntimeError as error:
        if "startup" not in str(error):
            raise
        raise RuntimeError(_STARTUP.format(engine="TensorFlow")) from None
    task = cluster["task"]
    workers = len(cluster["cluster"].get("worker", []))
    chiefs = len(cluster["cluster"].get("chief", []))
    index = task["index"] + (chiefs if task.get("type") == "worker" else 0)
    _tf_worker = Worker(index, workers + chiefs)
    return strategy


def _keras_multiworker_strategy(tf):
    """`MultiWorkerMirroredStrategy` whose `reduce` takes what Keras 3's
    `fit` gives it: Keras reduces a whole (nested) batch, and its scalar
    logs along axis 0, neither of which TensorFlow's strategy accepts
    (keras-team/keras#20585: without this, fit fails at its first step)."""

    class KerasMultiWorkerMirroredStrategy(
        tf.distribute.MultiWorkerMirroredStrategy
    ):
        def reduce(self, reduce_op, value, axis=None):
            if isinstance(value, (tuple, list, dict)):
                return tf.nest.map_structure(
                    lambda part: self.reduce(reduce_op, part, axis), value
                )
            parts = getattr(value, "values", (value,))
            if axis is not None and all(_is_scalar(part) for part in parts):
                axis = None  # one number per replica: nothing along axis 0
            return super().reduce(reduce_op, value, axis)

    return KerasMultiWorkerMirroredStrategy


def _is_scalar(value):
    shape = getattr(value, "shape", None)
    return shape is not None and len(shape) == 0


def _read_tf_config():
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
        tasks = config["cluster"][config["task"]["type"]]
        if not 0 <= int(config["task"]["index"]) < len(tasks):
            raise ValueError("index out of range")
        config["task"]["index"] = int(config["task"]["index"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            "TF_CONFIG must be JSON with cluster.worker (a list of host:port) "
            "and task.type and task.index (this process's entry in that "
            f"list). Received: TF_CONFIG={raw!r}"
        ) from None
    return config


def _join_jax_cluster():
    missing = [name for name in JAX_CLUSTER if not os.environ.get(name)]
    if missing:
        raise ValueError(
            "strategy='multiworker' on the JAX backend needs the cluster in "
            "the environment variables Keras reads: "
            "KERAS_DISTRIBUTION_JOB_ADDRESSES (the coordinator's host:port, "
            "process 0's), KERAS_DISTRIBUTION_NUM_PROCESSES and "
            "KERAS_DISTRIBUTION_PROCESS_ID (0 ... count - 1). Not set: "
            + ", ".join(missing)
        )
    try:
        count = int(os.environ[JAX_CLUSTER[1]])
        index = int(os.environ[JAX_CLUSTER[2]])
    except ValueError:
        count, index = 0, -1
    if not 0 <= index < count:
        raise ValueError(
            f"{JAX_CLUSTER[1]} must be a positive integer and {JAX_CLUSTER[2]} "
            f"one of 0 ... {JAX_CLUSTER[1]} - 1. Received: "
            f"{JAX_CLUSTER[1]}={os.environ[JAX_CLUSTER[1]]!r}, "
            f"{JAX_CLUSTER[2]}={os.environ[JAX_CLUSTER[2]]!r}"
        )
    import jax

    if jax.distributed.is_initialized():
        return
    try:
        keras.distribution.initialize()
    except RuntimeError as error:
        if "must be called before" not in str(error):
            raise
        raise RuntimeError(_STARTUP.format(engine="JAX")) from None
