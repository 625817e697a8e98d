"""Backup, BestModel and the run folder: what a resume refuses, and how a
full disk, a read-only folder and a second live run end."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.training import Backup
from keras_chattn.training import BackupError
from keras_chattn.training import BestModel
from keras_chattn.training import HistoryError
from keras_chattn.training import cifar_recipe
from keras_chattn.training import epochs_done
from keras_chattn.training import read_history
from keras_chattn.training import run_folder
from keras_chattn.utils import files

IMAGES = np.random.default_rng(0).normal(size=(16, 32, 32, 3)).astype("float32")
LABELS = np.arange(16) % 10


def tiny(attention=None):
    return keras_chattn.models.small_cnn(
        "cifar10", base_width=4, attention=attention
    )


def train(folder, model, epochs=1, **recipe_arguments):
    recipe = cifar_recipe(
        epochs=epochs,
        steps_per_epoch=1,
        batch_size=16,
        output_dir=folder,
        tensorboard=False,
        **recipe_arguments,
    )
    recipe.compile(model)
    model.fit(
        IMAGES,
        LABELS,
        batch_size=16,
        epochs=epochs,
        validation_data=(IMAGES, LABELS),
        callbacks=recipe.callbacks,
        verbose=0,
    )
    return model


def test_backup_of_another_architecture_is_refused(tmp_path):
    train(tmp_path, tiny("se"))
    with pytest.raises(BackupError) as refused:
        train(tmp_path, tiny(None), epochs=2, extend=True)
    message = str(refused.value)
    assert "is the backup of another architecture" in message
    assert "training_metadata.json" in message and "attention" in message
    assert epochs_done(tmp_path / "backup") == 1  # left as it was


def test_same_architecture_built_again_resumes(tmp_path):
    # Keras numbers unnamed layers anew in every build: names and shapes,
    # not paths, decide.
    def sequential():
        return keras.Sequential(
            [keras.Input((32, 32, 3)), keras.layers.Flatten(),
             keras.layers.Dense(10)]
        )  # fmt: skip

    train(tmp_path, sequential())
    model = train(tmp_path, sequential(), epochs=2, extend=True)
    assert int(model.optimizer.iterations) == 2
    assert epochs_done(tmp_path / "backup") == 2


@pytest.mark.parametrize(
    "changed, named",
    [
        ({"learning_rate": 0.3}, "learning_rate: 0.1 there, 0.3 now"),
        ({"schedule": "step"}, "schedule: 'cosine' there, 'step' now"),
        ({"settings": {"seed": 1}}, "seed: 0 there, 1 now"),
    ],
)
def test_other_settings_are_refused_by_name(tmp_path, changed, named):
    train(tmp_path, tiny(), settings={"seed": 0}, learning_rate=0.1)
    arguments = {"settings": {"seed": 0}, "learning_rate": 0.1, **changed}
    with pytest.raises(BackupError, match="a run with other settings") as e:
        train(tmp_path, tiny(), **arguments)
    assert named in str(e.value)


def test_more_epochs_need_extend_and_are_recorded(tmp_path):
    train(tmp_path, tiny(), epochs=1)
    with pytest.raises(BackupError, match="Extend it explicitly"):
        train(tmp_path, tiny(), epochs=2)
    train(tmp_path, tiny(), epochs=2, extend=True)
    record = json.loads(
        (tmp_path / "backup" / "training_metadata.json").read_text()
    )
    assert record["extensions"] == [
        {"from_epochs": 1, "to_epochs": 2, "at_epoch": 1}
    ]
    with pytest.raises(BackupError, match="cannot be shortened to 1"):
        train(tmp_path, tiny(), epochs=1)
    assert [r["epoch"] for r in read_history(tmp_path / "history.csv")] == [
        1,
        2,
    ]


def test_backup_is_a_loadable_model_and_the_old_files_go(tmp_path):
    train(tmp_path, tiny(), epochs=2)
    names = sorted(p.name for p in (tmp_path / "backup").iterdir())
    assert names == ["epoch-0002.keras", "training_metadata.json"]
    restored = keras.saving.load_model(tmp_path / "backup/epoch-0002.keras")
    assert int(restored.optimizer.iterations) == 2


def test_a_kill_before_the_clean_up_leaves_nothing_stale(tmp_path):
    # Killed after the record of epoch 2, before epoch 1's file went: the
    # folder is cleaned when it is opened again, with nothing left to train.
    train(tmp_path, tiny(), epochs=2)
    backup = tmp_path / "backup"
    shutil.copy(backup / "epoch-0002.keras", backup / "epoch-0001.keras")
    with run_folder(tmp_path, {"epochs": 2}) as done:
        assert done == 2
    assert sorted(p.name for p in backup.iterdir()) == [
        "epoch-0002.keras",
        "training_metadata.json",
    ]


def test_backup_of_the_previous_format_resumes(tmp_path):
    model = train(tmp_path, tiny(), epochs=1)
    backup = tmp_path / "backup"
    model.save_weights(backup / "epoch-0001.weights.h5")
    (backup / "epoch-0001.keras").unlink()
    (backup / "training_metadata.json").unlink()
    (backup / "state.json").write_text(
        '{"epochs_done": 1, "weights": "epoch-0001.weights.h5"}'
    )
    assert epochs_done(backup) == 1
    resumed = train(tmp_path, tiny(), epochs=2, extend=True)
    assert int(resumed.optimizer.iterations) == 2
    assert sorted(p.name for p in backup.iterdir()) == [
        "epoch-0002.keras",
        "training_metadata.json",
    ]


@pytest.mark.parametrize(
    "record, message",
    [
        ("{", "the backup record .* is unreadable"),
        ('{"epoch": 1, "weights": "../x.keras"}', "which is not a file in"),
        ('{"epoch": 1, "weights": "gone.keras"}', "which is not a file in"),
    ],
)
def test_broken_records_are_refused_naming_the_file(tmp_path, record, message):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "training_metadata.json").write_text(record)
    with pytest.raises(BackupError, match=message):
        epochs_done(tmp_path / "backup")


def test_history_shorter_than_the_backup_is_refused(tmp_path):
    train(tmp_path, tiny(), epochs=1)
    (tmp_path / "history.csv").write_text("epoch,loss\n")
    with pytest.raises(HistoryError, match="holds 0 epochs but the backup 1"):
        with run_folder(tmp_path):
            pass


def test_full_disk_ends_in_an_error_naming_the_folder(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: usage._replace(free=1024)
    )
    with pytest.raises(files.StorageError) as full:
        train(tmp_path, tiny())
    assert full.value.errno == errno.ENOSPC
    assert f"in {tmp_path}: it needs about" in str(full.value)
    assert not list(tmp_path.rglob("*.partial*"))


def test_read_only_folder_ends_in_an_error_naming_the_file(
    tmp_path, monkeypatch
):
    replace = os.replace

    def read_only(source, target):
        if str(target).endswith(".keras"):
            raise OSError(errno.EROFS, "Read-only file system")
        return replace(source, target)

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(files.StorageError) as refused:
        train(tmp_path, tiny())
    assert str(refused.value) == (
        f"cannot write {tmp_path / 'best_model.keras'}: Read-only file system"
    )
    assert not list(tmp_path.rglob("*.partial*"))


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from keras_chattn.utils.files import FolderLock
    with FolderLock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(600)
    """
)


def test_a_second_live_run_is_refused_and_a_killed_one_frees_the_folder(
    tmp_path,
):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(files.FolderInUse) as refused:
            train(tmp_path, tiny())
        assert f"process {holder.pid}" in str(refused.value)
        assert not (tmp_path / "history.csv").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    train(tmp_path, tiny())  # the kill left nothing held
    assert epochs_done(tmp_path / "backup") == 1


def test_lock_is_reentrant_in_one_process(tmp_path):
    with run_folder(tmp_path) as done:
        assert done == 0
        train(tmp_path, tiny())  # the callbacks take the same lock again
    with files.FolderLock(tmp_path) as lock:
        assert lock.held


def test_best_model_ties_do_not_save_again(tmp_path):
    path = tmp_path / "best.keras"
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    best = BestModel(path, monitor="val_accuracy", initial_value_threshold=0.5)
    best.set_model(model)
    best.on_train_begin()
    best.on_epoch_end(0, {"val_accuracy": 0.5})
    assert not path.exists()
    best.on_epoch_end(1, {"val_accuracy": 0.6})
    assert path.exists() and best.best == pytest.approx(0.6)
    best.on_train_end()


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"f": object()}, "settings must be a dict of JSON values"),
        ([1, 2], "settings must be a dict"),
    ],
)
def test_backup_settings_must_be_json(tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        Backup(tmp_path / "backup", settings=settings)
