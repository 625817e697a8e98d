"""add_attention: blocks inserted into models keras_chattn did not build."""

import functools
import warnings

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn import models
from keras_chattn.layers import IdentityStart
from tests import harness
from tests.harness import to_numpy
from tests.models.helpers import attention_layers

A = keras.applications
X = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")


@functools.cache
def application(name):
    return getattr(A, name)(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )


def names(model):
    return [layer.name for layer in attention_layers(model)]


# (architecture, "se" blocks expected): one per residual addition, or one
# per stage in a network without them.
FAST = [
    ("ResNet50", 16),
    ("VGG16", 5),
    ("MobileNetV2", 10),
    ("DenseNet121", 5),
    ("ConvNeXtTiny", 18),
]
SLOW = [
    ("ResNet101", 33),
    ("ResNet152", 50),
    ("ResNet50V2", 16),
    ("VGG19", 5),
    ("EfficientNetB0", 9),
]


def check_application(name, expected):
    base = application(name)
    plain = to_numpy(base(X))
    model = models.add_attention(base, "se")
    assert len(attention_layers(model)) == expected
    assert all(
        type(b) is keras_chattn.SqueezeExcite for b in attention_layers(model)
    )
    # Every original layer is there, with its name and its weights.
    for layer in base.layers[1:]:
        copy = model.get_layer(layer.name)
        for mine, theirs in zip(copy.weights, layer.weights, strict=True):
            np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))
    identity = models.add_attention(base, "se", start_as_identity=True)
    np.testing.assert_allclose(to_numpy(identity(X)), plain, atol=1e-5)
    return model


@pytest.mark.parametrize("name, expected", FAST)
def test_keras_applications(name, expected):
    check_application(name, expected)


@pytest.mark.slow
@pytest.mark.parametrize("name, expected", SLOW)
def test_more_keras_applications(name, expected):
    model = check_application(name, expected)
    if name == "EfficientNetB0":
        # Its own squeeze-and-excitation stays; ours is added beside it.
        assert any("se_excite" in layer.name for layer in model.layers)


def test_placement_of_every_kind_in_resnet50():
    base = application("ResNet50")
    assert names(models.add_attention(base, "bam")) == [
        "conv2_out_attention",
        "conv3_out_attention",
        "conv4_out_attention",
    ]
    assert names(models.add_attention(base, "c3")) == [
        f"conv{s}_attention" for s in (2, 3, 4, 5)
    ]
    assert names(models.add_attention(base, "danet")) == ["head_attention"]
    simam = models.add_attention(base, "simam")
    block = simam.get_layer("conv3_block2_attention")
    assert block._inbound_nodes[0].parent_nodes[0].operation.name == (
        "conv3_block2_2_conv"
    )


BUILDER_BLOCKS = [
    "se",
    "cbam",
    "eca",
    "coord",
    "gc",
    "triplet",
    "simam",
    "bam",
    "c3",
    "danet",
    "ese",
    "ge",
    "ela",
    "nl",
    "scse",
    "gct",
    "fca",
    "sge",
]


@pytest.mark.parametrize("block", BUILDER_BLOCKS)
def test_same_model_as_the_builder(block):
    # add_attention on a builder's plain model gives exactly what the
    # builder gives with the block: the same layers, names, parameters.
    inserted = models.add_attention(models.cifar_resnet(8), block)
    built = models.cifar_resnet(8, attention=block)
    assert [layer.name for layer in inserted.layers[1:]] == [
        layer.name for layer in built.layers[1:]
    ]
    assert inserted.count_params() == built.count_params()


def test_same_model_as_a_plain_builder_with_a_block_after_every_conv():
    every_conv = lambda layer: isinstance(layer, keras.layers.Conv2D)  # noqa: E731
    plain = models.small_cnn("cifar10", base_width=4)
    inserted = models.add_attention(plain, "se", where=every_conv)
    built = models.small_cnn("cifar10", base_width=4, attention="se")
    assert [layer.name for layer in inserted.layers[1:]] == [
        layer.name for layer in built.layers[1:]
    ]
    assert inserted.count_params() == built.count_params()


def user_model():
    inputs = keras.Input((16, 16, 8))
    y = keras.layers.Conv2D(8, 3, padding="same", name="c1")(inputs)
    y = keras.layers.BatchNormalization(name="b1")(y)
    y = keras.layers.Add(name="res_add")([inputs, y])
    y = keras.layers.ReLU(name="out")(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(y))


def test_user_model_and_its_round_trip_in_a_fresh_process(tmp_path):
    source = user_model()
    source_kernel = np.asarray(source.get_layer("c1").kernel).copy()
    model = models.add_attention(source, "cbam", start_as_identity=True)
    assert names(model) == ["res_attention"]
    assert isinstance(model.get_layer("res_attention"), IdentityStart)
    x = np.random.default_rng(1).normal(size=(2, 16, 16, 8)).astype("float32")
    original = model.get_layer("c1")
    base_kernel = np.asarray(original.kernel).copy()
    model.compile("adam", "mse")
    model.fit(x, np.zeros((2, 3)), epochs=2, verbose=0)  # the gate moves
    assert float(np.asarray(model.get_layer("res_attention").g)) != 0.0
    # Layers are copies: training the new model left the original alone.
    assert not np.array_equal(np.asarray(original.kernel), base_kernel)
    np.testing.assert_array_equal(
        np.asarray(source.get_layer("c1").kernel), source_kernel
    )
    path = tmp_path / "model.keras"
    model.save(path)
    np.savez(tmp_path / "x.npz", x0=x)
    # The harness's loader process: it imports keras_chattn and Keras only.
    loader = harness.LoaderProcess.get(harness._KERAS_LOADER)
    result = loader.load(str(path), str(tmp_path / "x.npz"))
    np.testing.assert_allclose(result["output"], to_numpy(model(x)), atol=1e-5)


def test_nested_backbone_gets_its_blocks():
    backbone = application("MobileNetV2")
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    classifier = keras.Model(inputs, keras.layers.Dense(10)(x))
    model = models.add_attention(classifier, "eca", start_as_identity=True)
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)][
        0
    ]
    assert len(attention_layers(inner)) == 10
    np.testing.assert_allclose(
        to_numpy(model(X)), to_numpy(classifier(X)), atol=1e-5
    )


def test_where_by_name_and_callable():
    base = application("VGG16")
    chosen = models.add_attention(
        base, "se", where=["block3_conv3", "block4_conv3"]
    )
    assert names(chosen) == ["block3_conv3_attention", "block4_conv3_attention"]
    pooled = models.add_attention(
        base,
        "eca",
        where=lambda layer: isinstance(layer, keras.layers.MaxPooling2D),
    )
    assert len(attention_layers(pooled)) == 5


def test_a_block_that_does_not_fit_is_skipped_with_a_warning():
    base = A.VGG16(weights=None, include_top=False, input_shape=(96, 96, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = models.add_attention(
            base, "danet", where=["block1_conv2", "block4_conv3"]
        )
    assert names(model) == ["block4_conv3_attention"]
    message = " ".join(str(w.message) for w in caught)
    assert "skipped block1_conv2_attention on (None, 96, 96, 64)" in message
    assert "9216 positions exceed max_positions=4096" in message


@pytest.mark.parametrize(
    "model, attention, kwargs, message",
    [
        (
            keras.Sequential(
                [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)]
            ),
            "se",
            {},
            r"Sequential\. Rebuild it functionally",
        ),
        ("not a model", "se", {}, r"needs a functional keras.Model"),
        (
            None,
            "sk",
            {},
            r"has placement 'replace_conv'.*supports the placements",
        ),
        (None, "ba", {}, r"takes its block's intermediate maps"),
        (None, "none", {}, r"attention must name a block"),
        (None, "se", {"where": ["nope"]}, r"does not have: \['nope'\]"),
        (None, "se", {"where": 3}, r"where must be 'auto', a list"),
        (None, "se", {"name_prefix": 3}, r"name_prefix must be a string"),
        (
            None,
            "se",
            {"attention_kwargs": {"bogus": 1}},
            r"attention_kwargs holds arguments that SqueezeExcite does not "
            r"take.*bogus",
        ),
        (
            None,
            "se",
            {"attention_kwargs": {"reduction": 0}},
            r"reduction must be a positive integer",
        ),
        (
            None,
            "danet",
            {"attention_kwargs": {"channels": 4}},
            r"keep their input's shape.*DualAttention",
        ),
        (None, "se", {"attention_kwargs": "x"}, r"attention_kwargs must be"),
    ],
)
def test_errors(model, attention, kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.add_attention(
            user_model() if model is None else model, attention, **kwargs
        )


def test_names_that_exist_need_a_prefix():
    model = models.add_attention(user_model(), "se")
    with pytest.raises(ValueError, match="pass name_prefix"):
        models.add_attention(model, "se")
    again = models.add_attention(model, "eca", name_prefix="eca_")
    assert "eca_res_attention" in names(again)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_identity_start_under_mixed_precision(policy):
    keras.config.set_dtype_policy(policy)
    wrapped = IdentityStart(keras_chattn.CBAM(reduction=2), gate="channel")
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 8)).astype("float32")
    y = wrapped(x)
    assert keras.backend.standardize_dtype(y.dtype) == policy.split("_")[1]
    assert keras.backend.standardize_dtype(wrapped.g.dtype) == "float32"
    np.testing.assert_allclose(
        to_numpy(keras.ops.cast(y, "float32")), x, atol=1e-2
    )


def test_imagenet_workflow_with_a_weights_file(tmp_path):
    # weights="imagenet" cannot download here; a weights file saved from the
    # same architecture goes through the same path: keras.applications
    # loads it, add_attention carries every weight over.
    path = tmp_path / "resnet50_notop.weights.h5"
    application("ResNet50").save_weights(path)
    pretrained = A.ResNet50(
        weights=str(path), include_top=False, input_shape=(32, 32, 3)
    )
    model = models.add_attention(pretrained, "se", start_as_identity=True)
    np.testing.assert_allclose(
        to_numpy(model(X)), to_numpy(application("ResNet50")(X)), atol=1e-5
    )
    kernel = model.get_layer("conv4_block3_2_conv").kernel
    np.testing.assert_array_equal(
        np.asarray(kernel),
        np.asarray(
            application("ResNet50").get_layer("conv4_block3_2_conv").kernel
        ),
    )
