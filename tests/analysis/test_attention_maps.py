"""attention_maps, class_excitation and grad_cam on tiny models."""

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn import analysis
from keras_chattn import models
from tests.harness import to_numpy

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(size=(6, 32, 32, 3)).astype("float32")
LABELS = np.array([0, 1, 2, 0, 1, 2])


@pytest.fixture(scope="module")
def cbam_model():
    keras.utils.set_random_seed(0)
    return models.cifar_resnet(8, attention="cbam", classifier_activation=None)


def test_maps_of_every_block_in_one_pass(cbam_model):
    maps = analysis.attention_maps(cbam_model, IMAGES, batch_size=4)
    assert sorted(maps) == [f"conv{s}_block1_attention" for s in (2, 3, 4)]
    block = maps["conv4_block1_attention"]
    assert block["channel"].shape == (6, 64) and block["spatial"].shape == (
        6,
        8,
        8,
    )
    # The same maps as calling the block on what reaches it.
    layer = cbam_model.get_layer("conv2_block1_attention")
    reaching = keras.Model(cbam_model.input, layer.input)(IMAGES)
    _, direct = layer(reaching, return_attention=True, training=False)
    np.testing.assert_allclose(
        maps["conv2_block1_attention"]["spatial"],
        to_numpy(direct["spatial"]),
        rtol=1e-5,
        atol=1e-6,
    )


def test_choose_layers_and_bad_names(cbam_model):
    maps = analysis.attention_maps(
        cbam_model, IMAGES, layers=["conv3_block1_attention"]
    )
    assert list(maps) == ["conv3_block1_attention"]
    with pytest.raises(ValueError, match=r"layers must name attention blocks"):
        analysis.attention_maps(cbam_model, IMAGES, layers=["conv3_block1_add"])


def test_maps_through_add_attention_and_nested_models():
    base = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = models.add_attention(
        keras.Model(inputs, outputs), "cbam", start_as_identity=True
    )
    maps = analysis.attention_maps(model, IMAGES[:2])
    assert len(maps) == 10
    assert set(maps["block_2_attention"]) >= {"channel", "spatial", "gate"}


def test_class_excitation(cbam_model):
    result = analysis.class_excitation(cbam_model, IMAGES, LABELS)
    block = result["conv2_block1_attention"]
    assert block["per_class"].shape == (3, 16) and block["classes"] == [0, 1, 2]
    maps = analysis.attention_maps(cbam_model, IMAGES)
    weights = maps["conv2_block1_attention"]["channel"]
    np.testing.assert_allclose(
        block["per_class"][1], weights[LABELS == 1].mean(axis=0), rtol=1e-6
    )
    assert block["spread"] == pytest.approx(
        float(block["per_class"].std(axis=0).mean())
    )
    with pytest.raises(ValueError, match=r"needs blocks with channel weights"):
        analysis.class_excitation(
            models.cifar_resnet(8, attention="simam"), IMAGES, LABELS
        )


def test_grad_cam_matches_its_definition(cbam_model):
    maps, classes = analysis.grad_cam(cbam_model, IMAGES[:2], class_index=3)
    assert maps.shape == (2, 32, 32) and classes.tolist() == [3, 3]
    assert maps.min() >= 0 and np.allclose(maps.reshape(2, -1).max(axis=1), 1.0)
    # By hand: the last map A, the gradient of score 3, weights, ReLU.
    import tensorflow as tf

    head = cbam_model.get_layer("avg_pool").input
    features = keras.Model(cbam_model.input, head)
    top = keras.Model(head, cbam_model.output)
    a = features(IMAGES[:1])
    with tf.GradientTape() as tape:
        tape.watch(a)
        score = top(a)[:, 3]
    grads = tape.gradient(score, a)
    cam = tf.nn.relu(tf.reduce_sum(tf.reduce_mean(grads, (1, 2), True) * a, -1))
    cam = tf.image.resize(cam[..., None], (32, 32))[0, ..., 0].numpy()
    np.testing.assert_allclose(maps[0], cam / cam.max(), rtol=1e-4, atol=1e-5)


def test_grad_cam_on_a_model_ending_in_attention():
    model = models.cifar_resnet(
        8, attention="danet", classifier_activation=None
    )
    maps, classes = analysis.grad_cam(model, IMAGES[:2])
    assert maps.shape == (2, 32, 32)
    assert (
        classes.tolist() == np.argmax(to_numpy(model(IMAGES[:2])), -1).tolist()
    )


def test_grad_cam_errors(cbam_model):
    with pytest.raises(ValueError, match=r"layer must be 'auto' or a layer"):
        analysis.grad_cam(cbam_model, IMAGES, layer="nope")
    with pytest.raises(ValueError, match=r"images must be a batch"):
        analysis.grad_cam(cbam_model, IMAGES[0])
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"found no 4-D map"):
        analysis.grad_cam(dense, np.zeros((1, 4, 1, 1)))


def test_attention_layers_lists_nested_and_wrapped_blocks():
    model = models.add_attention(
        models.cifar_resnet(8), "se", start_as_identity=True
    )
    found = analysis.attention_layers(model)
    assert len(found) == 3
    assert all(
        isinstance(b, keras_chattn.layers.IdentityStart) for b in found.values()
    )


# Bad input to the analysis functions: each a ValueError naming the
# argument (these once returned maps for a class the model does not have,
# raised IndexError or AttributeError, or averaged float labels).
ANALYSIS_ERRORS = [
    (
        "grad_cam",
        {"class_index": 10},
        r"class_index must be a class of the model's 10 .*=10",
    ),
    (
        "grad_cam",
        {"class_index": 1000},
        r"class_index must be a class of the model's 10",
    ),
    ("grad_cam", {"class_index": -1}, r"class_index must be a class .*=-1"),
    (
        "grad_cam",
        {"class_index": [0, 1]},
        r"class_index must be None, an int or one int per image \(6",
    ),
    (
        "grad_cam",
        {"class_index": np.array([0.5] * 6)},
        r"class_index must be integer class indices",
    ),
    ("grad_cam", {"batch_size": -1}, r"batch_size must be a positive"),
    ("grad_cam", {"images": IMAGES[:0]}, r"images must hold at least one"),
    ("grad_cam", {"model": None}, r"grad_cam needs model to be a .*=None"),
    ("attention_maps", {"batch_size": -1}, r"batch_size must be a positive"),
    ("attention_maps", {"batch_size": 0}, r"batch_size must be a positive"),
    (
        "attention_maps",
        {"images": IMAGES[:0]},
        r"images must hold at least one example.*\(0, 32, 32, 3\)",
    ),
    ("attention_maps", {"images": []}, r"images must hold at least one"),
    ("attention_maps", {"model": None}, r"attention_maps needs model"),
    (
        "class_excitation",
        {"labels": LABELS[:4]},
        r"labels must give one class per image: 6 images.*\(4,\)",
    ),
    (
        "class_excitation",
        {"labels": LABELS.astype("float32")},
        r"labels must be integer class indices.*float32",
    ),
    (
        "class_excitation",
        {"labels": LABELS - 1},
        r"labels must be class indices >= 0.*-1",
    ),
    ("class_excitation", {"batch_size": -1}, r"batch_size must be a positive"),
    ("class_excitation", {"images": IMAGES[:0]}, r"images must hold"),
    ("class_excitation", {"model": None}, r"class_excitation needs model"),
]


@pytest.mark.parametrize("function, kwargs, message", ANALYSIS_ERRORS)
def test_bad_input_is_refused_by_name(cbam_model, function, kwargs, message):
    arguments = {"model": cbam_model, "images": IMAGES, **kwargs}
    if function == "class_excitation":
        arguments.setdefault("labels", LABELS)
    with pytest.raises(ValueError, match=message):
        getattr(analysis, function)(**arguments)


def test_grad_cam_explains_the_class_asked_for(cbam_model):
    _, classes = analysis.grad_cam(cbam_model, IMAGES, class_index=2)
    assert classes.tolist() == [2] * 6
    _, classes = analysis.grad_cam(cbam_model, IMAGES, class_index=LABELS)
    assert classes.tolist() == LABELS.tolist()
