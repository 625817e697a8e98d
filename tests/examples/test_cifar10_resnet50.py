"""examples/cifar10_resnet50.py end to end on the shared CIFAR-10 files."""

import importlib.util
import json
import pathlib
import textwrap

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.data import load_cifar_arrays
from keras_chattn.training import read_history
from tests import processes
from tests.data.shared import DATA
from tests.data.shared import needs_data
from tests.stop_callbacks import EpochRecorder
from tests.stop_callbacks import StopAfterEpoch

SCRIPT = (
    pathlib.Path(__file__).resolve().parents[2]
    / "examples"
    / "cifar10_resnet50.py"
)
BLOCK_IMPORTS = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def load_example():
    spec = importlib.util.spec_from_file_location("cifar10_resnet50", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(code, env=None, timeout=600):
    return processes.run_python(code, env=env, timeout=timeout).stdout


def small_run(output_dir, *extra):
    return [
        "--data-dir",
        str(DATA),
        "--model",
        "cifar_resnet20",
        "--output-dir",
        str(output_dir),
        "--verbose",
        "0",
        *extra,
    ]


@pytest.mark.slow
@needs_data
def test_run_leaves_every_artefact_and_the_export_serves(tmp_path):
    argv = small_run(
        tmp_path,
        "--attention",
        "se",
        "--epochs",
        "1",
        "--limit",
        "128",
        "--batch-size",
        "64",
        "--export",
    )
    stdout = run_python(
        f"import runpy, sys; sys.argv = {[str(SCRIPT), *argv]!r}; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    assert "final test accuracy" in stdout
    for name in (
        "best_model.keras",
        "history.csv",
        "curves.png",
        "summary.json",
    ):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    history = read_history(tmp_path / "history.csv")
    assert [row["epoch"] for row in history] == [1]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["epochs"] == 1 and summary["train_images"] == 128
    assert summary["test_images"] == 128 and summary["pipeline"] == "tf.data"
    assert summary["final_test_accuracy"] == pytest.approx(
        history[0]["val_accuracy"]
    )
    assert 0.0 <= summary["best_test_accuracy"] <= 1.0
    assert summary["parameters"] > 270_000 and summary["train_images_per_s"] > 0

    # The SavedModel serves in a process where keras_chattn cannot be imported.
    images, _ = load_cifar_arrays(
        split="test", data_dir=DATA, limit=16, normalized=True
    )
    np.save(tmp_path / "images.npy", images)
    served = run_python(
        "BLOCKED = {'keras_chattn'}\n"
        + BLOCK_IMPORTS
        + textwrap.dedent(
            f"""
            import numpy as np, tensorflow as tf
            artefact = tf.saved_model.load({str(tmp_path / "saved_model")!r})
            images = np.load({str(tmp_path / "images.npy")!r})
            np.save({str(tmp_path / "served.npy")!r},
                    artefact.serve(tf.constant(images)).numpy())
            """
        )
    )
    del served
    best = keras.saving.load_model(tmp_path / "best_model.keras")
    assert any(
        isinstance(layer, keras_chattn.SqueezeExcite) for layer in best.layers
    )
    np.testing.assert_allclose(
        np.load(tmp_path / "served.npy"),
        best.predict(images, verbose=0),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.slow
@needs_data
def test_interrupted_run_resumes_at_epoch_two(tmp_path):
    example = load_example()
    argv = small_run(
        tmp_path,
        "--attention",
        "cbam",
        "--epochs",
        "2",
        "--limit",
        "64",
        "--batch-size",
        "32",
    )
    with pytest.raises(SystemExit, match="130"):
        example.main(argv, callbacks=[StopAfterEpoch(0)])
    assert [r["epoch"] for r in read_history(tmp_path / "history.csv")] == [1]
    recorder = EpochRecorder()
    summary = example.main(argv, callbacks=[recorder])
    assert recorder.epochs == [1]
    history = read_history(tmp_path / "history.csv")
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(np.isfinite(row["val_loss"]) for row in history)
    assert summary["epochs"] == 2


def test_architecture_flags_reach_the_cifar_resnet():
    example = load_example()
    args = example.parse_arguments(
        [
            "--model",
            "cifar_resnet20",
            "--attention",
            "none",
            "--shortcut",
            "B",
            "--batchnorm-momentum",
            "0.99",
            "--kernel-initializer",
            "glorot_uniform",
            "--warmup-epochs",
            "0",
            "--epochs",
            "3",
        ]
    )
    model, recipe = example.build(args, 10, 5, None)
    assert model.get_layer("conv3_block1_0_conv").kernel.shape == (1, 1, 16, 32)
    assert model.get_layer("conv2_block1_1_bn").momentum == 0.99
    initializer = model.get_layer("conv1_conv").kernel_initializer
    assert type(initializer).__name__ == "GlorotUniform"
    assert recipe.schedule.warmup_steps == 0
    # Builders without these arguments ignore them.
    args.model = "vgg16"
    assert example.build(args, 10, 5, None)[0].name == "vgg16"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--shortcut", "C"], "invalid choice: 'C'"),
        (["--epochs", "0"], "--epochs: must be >= 1, got 0"),
        (["--limit", "x"], "invalid positive value: 'x'"),
    ],
)
def test_bad_flags_are_named_by_the_parser(flags, message, capsys):
    example = load_example()
    with pytest.raises(SystemExit):
        example.parse_arguments(flags)
    assert message in capsys.readouterr().err


@needs_data
@pytest.mark.parametrize(
    "flags, message",
    [
        (["--warmup-epochs", "3", "--epochs", "3"], "warmup_epochs must be"),
        (["--batchnorm-momentum", "1.5"], "batchnorm_momentum must be"),
    ],
)
def test_bad_values_end_in_one_line_naming_them(tmp_path, flags, message):
    example = load_example()
    argv = small_run(tmp_path, "--limit", "32", "--epochs", "3", *flags)
    with pytest.raises(SystemExit) as stopped:
        example.main(argv)
    assert str(stopped.value).startswith(message)


@needs_data
def test_runs_on_jax_without_tensorflow(tmp_path):
    pytest.importorskip("jax")
    argv = small_run(
        tmp_path,
        "--attention",
        "cbam",
        "--epochs",
        "1",
        "--limit",
        "64",
        "--batch-size",
        "32",
    )
    run_python(
        "BLOCKED = {'tensorflow', 'tensorflow_datasets'}\n"
        + BLOCK_IMPORTS
        + f"import runpy; sys.argv = {[str(SCRIPT), *argv]!r}\n"
        + f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
        + "assert 'tensorflow' not in sys.modules\n",
        env={"KERAS_BACKEND": "jax"},
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["backend"] == "jax" and summary["pipeline"] == "arrays"
    assert summary["epochs"] == 1 and np.isfinite(summary["final_test_loss"])
    assert (tmp_path / "best_model.keras").is_file()
