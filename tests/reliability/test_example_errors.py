"""The training example ends every failure in one clear line, and a
`.keras` file loads without knowing that keras_chattn must be imported."""

import importlib.util
import pathlib
import textwrap

import pytest

import keras_chattn
from tests.data.shared import DATA
from tests.data.shared import needs_data
from tests.processes import run_python
from tests.stop_callbacks import StopAfterEpoch

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location(
        "cifar10_resnet50", SCRIPT / "cifar10_resnet50.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def argv(folder, *extra):
    return [
        "--model", "cifar_resnet20", "--attention", "none",
        "--data-dir", str(DATA), "--limit", "64", "--batch-size", "32",
        "--epochs", "2", "--verbose", "0", "--output-dir", str(folder),
        *extra,
    ]  # fmt: skip


def one_line_exit(example, arguments):
    with pytest.raises(SystemExit) as stopped:
        example.main(arguments)
    message = str(stopped.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_garbage_history_is_a_clear_error(example, tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss\nbanana,3\n")
    message = one_line_exit(example, argv(tmp_path))
    assert "history.csv is not a training history written by keras_chattn" in (
        message
    )


def test_output_path_that_is_a_file_is_a_clear_error(example, tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    message = one_line_exit(example, argv(target))
    assert f"{target} is a file, not a folder" in message


@pytest.mark.parametrize("record", ["training_metadata.json", "state.json"])
def test_unreadable_backup_record_is_a_clear_error(example, tmp_path, record):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / record).write_text("{")
    message = one_line_exit(example, argv(tmp_path))
    assert "cannot resume: the backup record" in message


@needs_data
def test_bad_recipe_value_is_a_clear_error(example, tmp_path):
    message = one_line_exit(
        example, argv(tmp_path, "--schedule", "step", "--warmup-epochs", "1")
    )
    assert message.startswith("warmup_epochs needs schedule='cosine'")


@needs_data
def test_ctrl_c_ends_with_how_to_resume(example, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        example.main(argv(tmp_path), callbacks=[StopAfterEpoch(0)])
    assert stopped.value.code == 130
    out = capsys.readouterr().out
    assert "Interrupted after 1 of 2 epochs. Run the same command again" in out


def test_load_model_without_importing_keras_chattn(tmp_path):
    path = tmp_path / "se.keras"
    keras_chattn.models.cifar_resnet(20, attention="se").save(path)
    code = textwrap.dedent(
        f"""
        import keras
        try:
            keras.saving.load_model({str(path)!r})
        except TypeError as error:
            print("keras:", len(str(error)), "characters")
        from keras_chattn.saving import load_model
        model = load_model({str(path)!r})
        print("ours:", type(model.get_layer("conv2_block1_attention")).__name__)
        """
    )
    completed = run_python(code)
    assert "ours: SqueezeExcite" in completed.stdout


def test_load_model_errors_name_the_path(tmp_path):
    with pytest.raises(ValueError, match="must be a .keras file"):
        keras_chattn.saving.load_model(tmp_path / "model.h5")
    with pytest.raises(ValueError, match="No such .keras file"):
        keras_chattn.saving.load_model(tmp_path / "absent.keras")
