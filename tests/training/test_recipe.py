"""The CIFAR recipe: optimizer, callbacks, resuming, precision, strategies."""

import json
import textwrap

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.training import Backup
from keras_chattn.training import BestModel
from keras_chattn.training import EpochLog
from keras_chattn.training import cifar_recipe
from keras_chattn.training import distribution_scope
from keras_chattn.training import read_history
from tests.processes import run_python
from tests.stop_callbacks import EpochRecorder
from tests.stop_callbacks import StopAfterEpoch

IMAGES = np.random.default_rng(0).normal(size=(32, 32, 32, 3)).astype("float32")
LABELS = np.arange(32) % 10


def tiny_model(attention="se"):
    return keras_chattn.models.small_cnn(
        "cifar10", base_width=4, attention=attention
    )


def test_sgd_nesterov_momentum_and_default_learning_rate():
    recipe = cifar_recipe(epochs=20, steps_per_epoch=10, batch_size=256)
    optimizer = recipe.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert optimizer.nesterov and optimizer.momentum == 0.9
    schedule = recipe.schedule
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.warmup_target == pytest.approx(0.2)
    assert schedule.warmup_steps == 20 and schedule.decay_steps == 180
    assert [m.name for m in recipe.metrics] == ["accuracy"]
    hundred = cifar_recipe(epochs=1, steps_per_epoch=1, classes=100)
    assert [m.name for m in hundred.metrics] == ["accuracy", "top5_accuracy"]


def test_weight_decay_shrinks_kernels_not_biases_or_batchnorm():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2),
            keras.layers.BatchNormalization(),
        ]
    )
    recipe = cifar_recipe(
        epochs=2, steps_per_epoch=1, learning_rate=0.5, weight_decay=0.1
    )
    recipe.compile(model)
    before = [
        keras.ops.convert_to_numpy(v) + 1.0 for v in model.trainable_variables
    ]
    for variable, value in zip(model.trainable_variables, before, strict=True):
        variable.assign(value)
    zeros = [keras.ops.zeros_like(v) for v in model.trainable_variables]
    model.optimizer.apply_gradients(
        zip(zeros, model.trainable_variables, strict=True)
    )
    after = {
        v.path.split("/")[-1]: keras.ops.convert_to_numpy(v)
        for v in model.trainable_variables
    }
    kernel_before = before[0]
    assert np.all(np.abs(after["kernel"]) < np.abs(kernel_before))
    np.testing.assert_array_equal(after["bias"], before[1])
    np.testing.assert_array_equal(after["gamma"], before[2])
    np.testing.assert_array_equal(after["beta"], before[3])


def test_training_writes_history_and_best_model(tmp_path):
    model = tiny_model()
    recipe = cifar_recipe(
        epochs=2, steps_per_epoch=2, batch_size=16, output_dir=tmp_path
    )
    recipe.compile(model)
    model.fit(
        IMAGES,
        LABELS,
        batch_size=16,
        epochs=2,
        validation_data=(IMAGES, LABELS),
        callbacks=recipe.callbacks,
        verbose=0,
    )
    history = read_history(tmp_path / "history.csv")
    assert [row["epoch"] for row in history] == [1, 2]
    for key in (
        "loss",
        "accuracy",
        "val_accuracy",
        "learning_rate",
        "train_time_s",
    ):
        assert all(np.isfinite(row[key]) for row in history), key
    assert (tmp_path / "best_model.keras").exists()
    assert (tmp_path / "backup").is_dir() and (tmp_path / "logs").is_dir()
    best = keras.saving.load_model(tmp_path / "best_model.keras")
    # The optimizer and its schedule come back from the .keras file.
    assert isinstance(best.optimizer, keras.optimizers.SGD)
    assert best.optimizer.nesterov
    assert any(
        isinstance(layer, keras_chattn.SqueezeExcite) for layer in best.layers
    )


def test_interrupted_run_resumes_at_the_next_epoch(tmp_path):
    def run(extra):
        keras.utils.set_random_seed(0)
        model = tiny_model()
        recipe = cifar_recipe(
            epochs=3, steps_per_epoch=2, batch_size=16, output_dir=tmp_path
        )
        recipe.compile(model)
        recorder = EpochRecorder()
        try:
            model.fit(
                IMAGES,
                LABELS,
                batch_size=16,
                epochs=3,
                validation_data=(IMAGES, LABELS),
                callbacks=[*recipe.callbacks, recorder, *extra],
                verbose=0,
            )
        except KeyboardInterrupt:
            pass
        return model, recorder.epochs

    _, first = run([StopAfterEpoch(0)])
    assert first == [0]
    assert [r["epoch"] for r in read_history(tmp_path / "history.csv")] == [1]
    model, second = run([])
    assert second == [1, 2]
    history = read_history(tmp_path / "history.csv")
    assert [row["epoch"] for row in history] == [1, 2, 3]
    # The optimizer state came back too: 3 epochs x 2 steps in all.
    assert int(model.optimizer.iterations) == 6
    _, third = run([])
    assert third == []


def test_history_drops_the_rows_of_epochs_the_backup_lacks(tmp_path):
    # A run killed after epoch 3's row, before its backup (epoch 2), with
    # half of a fourth row written.
    backup = tmp_path / "backup"
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    for epoch in (1, 2):
        callback = Backup(backup)
        callback.set_model(model)
        callback.on_train_begin()
        callback.on_epoch_end(epoch - 1)
        callback.on_train_end()
    history = tmp_path / "h.csv"
    history.write_text("epoch,loss\n1,3.0\n2,2.0\n3,1.5\n4,1.")
    logger = EpochLog(history, backup)
    logger.set_model(model)
    logger.on_train_begin()
    logger.on_epoch_end(2, {"loss": 1.4})
    logger.on_train_end()
    rows = read_history(history)
    assert [(r["epoch"], r["loss"]) for r in rows] == [
        (1, 3.0),
        (2, 2.0),
        (3, 1.4),
    ]


def test_resumed_checkpoint_keeps_the_best_so_far(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,val_accuracy\n1,0.9\n")
    recipe = cifar_recipe(epochs=2, steps_per_epoch=1, output_dir=tmp_path)
    checkpoint = next(c for c in recipe.callbacks if isinstance(c, BestModel))
    assert checkpoint.best == pytest.approx(0.9)
    # The backup is the last callback, after everything that writes.
    assert isinstance(recipe.callbacks[-1], Backup)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_without_nan(policy):
    keras.config.set_dtype_policy(policy)
    model = tiny_model("cbam")
    assert model.output.dtype == "float32"
    recipe = cifar_recipe(epochs=1, steps_per_epoch=2, label_smoothing=0.1)
    recipe.compile(model)
    history = model.fit(IMAGES, LABELS, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    if policy == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_jit_compile_trains():
    model = tiny_model()
    recipe = cifar_recipe(epochs=1, steps_per_epoch=2)
    recipe.compile(model, jit_compile=True)
    history = model.fit(IMAGES, LABELS, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "strategy, environment, message",
    [
        ("ring", {}, r"strategy must be one of"),
        ("multiworker", {"TF_CONFIG": ""}, "needs the TF_CONFIG"),
        ("multiworker", {"TF_CONFIG": "{}"}, "TF_CONFIG must be JSON"),
    ],
)
def test_distribution_errors(strategy, environment, message, monkeypatch):
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=message):
        distribution_scope(strategy)


MIRRORED = textwrap.dedent(
    """
    import json, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, keras_chattn
    from keras_chattn.training import cifar_recipe, distribution_scope
    x = np.random.default_rng(0).normal(size=(32, 32, 32, 3)).astype("float32")
    y = np.arange(32) % 10
    with distribution_scope("mirrored"):
        strategy = tf.distribute.get_strategy()
        model = keras_chattn.models.small_cnn(
            "cifar10", base_width=4, attention="cbam")
        cifar_recipe(epochs=1, steps_per_epoch=2).compile(model)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    history = model.fit(data, epochs=1, verbose=0)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "loss": history.history["loss"][-1]}))
    """
)


def test_mirrored_strategy_on_two_cpu_replicas():
    completed = run_python(MIRRORED, env={"KERAS_BACKEND": "tensorflow"})
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and np.isfinite(result["loss"])
