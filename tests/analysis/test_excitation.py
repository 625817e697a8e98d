import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.analysis import class_separability
from keras_chattn.analysis import excitation_statistics
from keras_chattn.layers import ContextualConv
from tests.harness import randomize_weights


def cc_model():
    model = models.small_cnn("cifar10", base_width=4, attention="cc")
    for layer in model.layers:
        if isinstance(layer, ContextualConv):
            randomize_weights(layer, seed=len(layer.name))
    return model


def test_excitation_statistics_on_a_small_cnn():
    model = cc_model()
    images = np.random.default_rng(0).normal(size=(6, 32, 32, 3))
    rows = excitation_statistics(model, images, batch_size=4)
    assert [r["layer"] for r in rows] == [
        f"block{s}_conv1_attention" for s in (1, 2, 3, 4)
    ]
    layer = model.get_layer("block2_conv1_attention")
    assert rows[1]["tilt_w"].shape == (6, 8)
    # Recompute one layer's statistics from its coefficients directly.
    probe_input = model.get_layer("block2_conv1").output
    features = keras.Model(model.inputs[0], probe_input)(images)
    p = keras.ops.convert_to_numpy(layer.coefficients(features))
    np.testing.assert_allclose(
        rows[1]["tilt_h"], np.abs(p[..., 2] - p[..., 3]), rtol=1e-5
    )
    np.testing.assert_allclose(
        rows[1]["magnitude_w"],
        np.abs((p[..., 0] + p[..., 1]) / 2 - 1),
        rtol=1e-5,
        atol=1e-7,
    )
    for row in rows:
        for key in ("tilt_w", "tilt_h"):
            assert np.all((row[key] >= 0) & (row[key] < 1))
        for key in ("magnitude_w", "magnitude_h"):
            assert np.all((row[key] >= 0) & (row[key] < 0.5))


def test_excitation_statistics_needs_bilinear_cc_layers():
    with pytest.raises(ValueError, match=r"no ContextualConv layer"):
        excitation_statistics(
            models.small_cnn("cifar10", 4, attention="se"),
            np.zeros((1, 32, 32, 3)),
        )
    model = models.small_cnn(
        "cifar10", 4, attention="cc", attention_kwargs={"emp": "sine"}
    )
    with pytest.raises(ValueError, match=r"bilinear"):
        excitation_statistics(model, np.zeros((1, 32, 32, 3)))


def test_class_separability_finds_class_dependent_coefficients():
    # Two "classes" of images with very different content, and a third
    # drawn like the first: the coefficients separate 0 from 1, not 0 from 2.
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, size=(24, 32, 32, 3))
    b = (
        rng.normal(0.0, 1.0, size=(24, 32, 32, 3))
        + np.linspace(-3, 3, 32)[None, :, None, None]
    )
    c = rng.normal(0.0, 1.0, size=(24, 32, 32, 3))
    images = np.concatenate([a, b, c])
    labels = np.repeat([0, 1, 2], 24)
    matrix, classes = class_separability(cc_model(), images, labels)
    assert list(classes) == [0, 1, 2]
    assert matrix.shape == (3, 3) and np.array_equal(matrix, matrix.T)
    assert matrix[0, 1] > 10 * max(matrix[0, 2], 1)
    assert matrix[0, 0] <= matrix[0, 1] and matrix[2, 2] <= matrix[1, 2]


def test_class_separability_checks_its_inputs():
    model = cc_model()
    with pytest.raises(ValueError, match=r"one class per image"):
        class_separability(model, np.zeros((4, 32, 32, 3)), [0, 1])
    with pytest.raises(ValueError, match=r"at least 4 images"):
        class_separability(model, np.zeros((5, 32, 32, 3)), [0, 0, 0, 0, 1])
