"""Multi-worker pieces that need no second process: which worker this is,
what the other workers write, how a lost worker and a late start read.
(tests/distributed runs real two-worker trainings on both backends.)"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_chattn.training.backup as backup_module
import keras_chattn.training.best_model as best_module
from keras_chattn.training import Backup
from keras_chattn.training import BestModel
from keras_chattn.training import Worker
from keras_chattn.training import WorkerLost
from keras_chattn.training import distribute
from keras_chattn.training import distribution_scope
from keras_chattn.training import epochs_done
from keras_chattn.training import peers_watched
from keras_chattn.training import run_callbacks
from keras_chattn.training import run_folder
from keras_chattn.training import worker
from keras_chattn.training import worker_part
from keras_chattn.utils import files

ROOT = pathlib.Path(__file__).resolve().parents[2]


def tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def fit(model, callbacks, epochs=2):
    x, y = np.ones((4, 2)), np.ones((4, 1))
    model.fit(x, y, epochs=epochs, callbacks=callbacks, verbose=0)


def test_one_process_is_the_only_worker_and_its_data_is_unchanged():
    assert worker() == Worker(0, 1)
    assert worker().chief
    batches = [np.zeros((4, 2))]
    assert worker_part(batches) is batches


def test_other_workers_write_nothing_and_save_when_the_chief_does(
    tmp_path, monkeypatch
):
    model = tiny_model()
    callbacks = run_callbacks(tmp_path / "run", monitor="loss", chief=False)
    kinds = [type(c).__name__ for c in callbacks]
    assert kinds == ["TerminateOnNaN", "EpochDetails", "BestModel", "Backup"]
    assert [c.chief for c in callbacks[2:]] == [False, False]
    saved = []
    real = backup_module.save_and_discard

    def spy(model, name):
        saved.append(name)
        real(model, name)

    monkeypatch.setattr(backup_module, "save_and_discard", spy)
    monkeypatch.setattr(best_module, "save_and_discard", spy)
    fit(model, callbacks)
    assert not (tmp_path / "run").exists()
    # Each epoch: the best model (the loss fell) and the backup, in the
    # order the chief writes them.
    assert saved == [
        "best_model.keras",
        "epoch-0001.keras",
        "best_model.keras",
        "epoch-0002.keras",
    ]


def test_other_workers_resume_the_chiefs_backup_without_its_lock(tmp_path):
    backup = tmp_path / "run" / "backup"
    fit(tiny_model(), [Backup(backup)], epochs=2)
    chief_model = keras.saving.load_model(backup / "epoch-0002.keras")
    with files.FolderLock(tmp_path / "run"):  # the chief holds it
        with run_folder(tmp_path / "run", {}, chief=False) as seen:
            assert seen == 2
        model = tiny_model()
        other = Backup(backup, chief=False)
        best = BestModel(
            tmp_path / "run" / "best.keras", "loss", "min", None, False
        )
        fit(model, [best, other], epochs=3)
    # It started from the chief's epoch 2 and wrote nothing of its own.
    assert epochs_done(backup) == 2
    assert sorted(p.name for p in backup.iterdir()) == [
        "epoch-0002.keras",
        "training_metadata.json",
    ]
    assert not (tmp_path / "run" / "best.keras").exists()
    assert model.optimizer.iterations.numpy() == 3  # epoch 3 only, 1 step
    assert chief_model.optimizer.iterations.numpy() == 2


def test_a_lost_worker_reads_as_what_to_do(monkeypatch):
    lost = RuntimeError(
        "Graph execution error:\n\nCollective ops is aborted by: recvmsg:"
        "Connection reset by peer\nmore detail"
    )
    with pytest.raises(RuntimeError) as alone:  # one process: unchanged
        with peers_watched():
            raise lost
    assert alone.value is lost
    monkeypatch.setattr(distribute, "worker", lambda: Worker(0, 2))
    with pytest.raises(WorkerLost) as caught:
        with peers_watched():
            raise lost
    message = str(caught.value)
    assert message.startswith("worker 0 of 2: another worker of the run")
    assert "Collective ops is aborted by: recvmsg:Connection reset" in message
    assert "start the same command on every worker again" in message
    with pytest.raises(ValueError, match="unrelated"):  # others pass
        with peers_watched():
            raise ValueError("unrelated")


@pytest.mark.parametrize(
    "environment, message",
    [
        ({}, "Not set: KERAS_DISTRIBUTION_JOB_ADDRESSES, KERAS_DIS"),
        (
            {
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": "127.0.0.1:1234",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                "KERAS_DISTRIBUTION_PROCESS_ID": "2",
            },
            "KERAS_DISTRIBUTION_PROCESS_ID='2'",
        ),
        (
            {
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": "127.0.0.1:1234",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": "two",
                "KERAS_DISTRIBUTION_PROCESS_ID": "0",
            },
            "KERAS_DISTRIBUTION_NUM_PROCESSES='two'",
        ),
    ],
)
def test_a_jax_cluster_must_be_described(environment, message, monkeypatch):
    for name in distribute.JAX_CLUSTER:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        distribute._join_jax_cluster()


def test_tf_config_must_name_this_worker(monkeypatch):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    config = {"cluster": cluster, "task": {"type": "worker", "index": 2}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    with pytest.raises(ValueError, match="task.type and task.index"):
        distribution_scope("multiworker")


LATE = textwrap.dedent(
    """
    import json, os, socket
    probe = socket.socket(); probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]; probe.close()
    os.environ["TF_CONFIG"] = json.dumps({
        "cluster": {"worker": [f"127.0.0.1:{port}"]},
        "task": {"type": "worker", "index": 0}})
    import tensorflow as tf
    from keras_chattn.training import distribution_scope
    tf.constant(1.0) + 1  # TensorFlow has started
    try:
        distribution_scope("multiworker")
    except RuntimeError as error:
        print("refused:", error)
    """
)


def test_a_multiworker_strategy_created_late_says_to_create_it_first():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": ""}
    env["KERAS_BACKEND"] = "tensorflow"
    completed = subprocess.run(
        [sys.executable, "-c", LATE],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "refused: strategy='multiworker' must be created before " in (
        completed.stdout
    )
    assert "Call distribution_scope('multiworker') first" in completed.stdout
