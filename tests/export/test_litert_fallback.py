"""LiteRT files XNNPACK refuses still run, on the built-in kernels.

XNNPACK rejects some int8 quantisation parameters (a tensor whose
calibrated range is zero, from a unit that never fires). Its refusal comes
as "failed to create XNNPACK runtime" or "Node number N
(TfLiteXNNPackDelegate) failed to prepare", when the tensors are allocated
or at an invoke after a resize; the runtime then uses the built-in kernels.
"""

import keras
import numpy as np
import pytest

from keras_chattn.export import export_model
from keras_chattn.export import load_runtime
from keras_chattn.export import missing_packages

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow" or missing_packages("litert"),
    reason="exports are made on the TensorFlow backend with the export extra",
)

SIZE = 8


def network(first_bias):
    """conv -> ReLU -> conv -> sigmoid -> pool -> logits. With a first bias
    of -100 its ReLU never fires: that int8 tensor gets a zero range, which
    XNNPACK refuses to prepare."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    dead = keras.layers.Conv2D(
        4,
        3,
        padding="same",
        activation="relu",
        bias_initializer=keras.initializers.Constant(first_bias),
    )(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same")(dead)
    x = keras.layers.Activation("sigmoid")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3)(x)
    return keras.Model(inputs, outputs, name=f"bias_{first_bias:g}")


def uniform_images(count, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(count, SIZE, SIZE, 3)).astype("float32")


@pytest.fixture(scope="module")
def refused_file(tmp_path_factory):
    model = network(first_bias=-100.0)
    path = tmp_path_factory.mktemp("litert") / "dead_unit_int8.tflite"
    report = export_model(
        model,
        path,
        "litert",
        representative_data=uniform_images(32, seed=0),
        quantize="int8",
    )
    return model, path, report


def test_int8_export_xnnpack_refuses_runs_on_built_in_kernels(refused_file):
    model, _, report = refused_file
    assert report.runtime == (
        "ai_edge_litert (built-in kernels: XNNPACK refused)"
    )
    # The dead branch makes every output the same: int8 rounding of it.
    assert report.top1_agreement == 1.0
    assert report.max_abs_diff < 0.05


class RefusesAtInvoke:
    """An interpreter whose invoke fails as XNNPACK's does after a resize."""

    def __init__(self, interpreter, message):
        self.interpreter = interpreter
        self.message = message

    def __getattr__(self, name):
        return getattr(self.interpreter, name)

    def invoke(self):
        raise RuntimeError(self.message)


@pytest.fixture(scope="module")
def float_file(tmp_path_factory):
    model = network(first_bias=0.0)
    path = tmp_path_factory.mktemp("litert") / "float.tflite"
    report = export_model(model, path, "litert")
    assert report.runtime == "ai_edge_litert"  # XNNPACK takes this one
    return model, path


@pytest.mark.parametrize(
    "message",
    [
        "failed to create XNNPACK runtime",
        "Node number 352 (TfLiteXNNPackDelegate) failed to prepare.",
    ],
)
def test_refusal_at_invoke_falls_back(float_file, message):
    model, path = float_file
    run = load_runtime("litert", path)
    run.interpreter = RefusesAtInvoke(run.interpreter, message)
    images = uniform_images(5, seed=1)
    got = run(images)
    assert run.name == "ai_edge_litert (built-in kernels: XNNPACK refused)"
    assert got.shape == (5, 3)
    expected = model.predict(images, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # A second batch size resizes the built-in interpreter.
    assert run(images[:2]).shape == (2, 3)


def test_other_runtime_errors_are_not_swallowed(float_file):
    _, path = float_file
    run = load_runtime("litert", path)
    run.interpreter = RefusesAtInvoke(run.interpreter, "tensor is too large")
    with pytest.raises(RuntimeError, match="tensor is too large"):
        run(uniform_images(2, seed=2))
    assert run.name == "ai_edge_litert"
