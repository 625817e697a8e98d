"""examples/export_model.py exports a saved model and tabulates each file."""

import json

import keras
import pytest

from keras_chattn import models
from keras_chattn.export import missing_packages
from tests.data.shared import DATA
from tests.data.shared import needs_data
from tests.examples.scripts import load_example


@needs_data
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow" or missing_packages("onnx"),
    reason="exports are made on the TensorFlow backend with the export extra",
)
def test_onnx_and_int8_litert_of_a_saved_model(tmp_path):
    path = tmp_path / "se.keras"
    keras.utils.set_random_seed(0)
    models.cifar_resnet(8, attention="se").save(path)
    out = tmp_path / "export"
    argv = [
        "--data-dir", str(DATA), "--model-path", str(path),
        "--formats", "onnx,litert-int8", "--images", "64",
        "--calibration-images", "64", "--output-dir", str(out),
    ]  # fmt: skip
    rows = load_example("export_model").main(argv)
    assert [r["format"] for r in rows] == ["keras", "onnx", "litert-int8"]
    keras_row, onnx_row, int8_row = rows
    assert onnx_row["status"] == "ok" and onnx_row["max_abs_diff"] < 1e-4
    assert onnx_row["agreement"] == 1.0
    assert onnx_row["accuracy"] == keras_row["accuracy"]
    assert int8_row["size_bytes"] < 0.6 * onnx_row["size_bytes"]
    assert all(r["latency_ms"] > 0 for r in rows)
    assert (out / "cifar_resnet8.onnx").exists()
    assert json.loads((out / "exports.json").read_text()) == rows
    assert "| litert-int8 |" in (out / "exports.md").read_text()


def test_unknown_format_is_refused_by_name(capsys):
    with pytest.raises(SystemExit):
        load_example("export_model").parse_arguments(
            ["--model-path", "m.keras", "--formats", "onnx,tensorrt"]
        )
    assert "Received: formats=['onnx', 'tensorrt']" in capsys.readouterr().err
