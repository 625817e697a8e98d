import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn import models
from tests.harness import count
from tests.models.helpers import attention_layers
from tests.models.helpers import layer_names


def trainable(model):
    return count(model.trainable_weights)


def non_trainable(model):
    return count(model.non_trainable_weights)


@pytest.mark.parametrize(
    "depth, expected",
    [
        (18, 11_689_512),
        (34, 21_797_672),
        (50, 25_557_032),
        (101, 44_549_160),
        (152, 60_192_808),
    ],
)
def test_paper_convention_sizes(depth, expected):
    model = models.resnet(depth, conv_bias=False)
    assert trainable(model) == expected


def test_keras_convention_resnet50_size():
    model = models.ResNet50()
    assert trainable(model) == 25_583_592
    assert non_trainable(model) == 53_120


@pytest.mark.parametrize(
    "attention, added, added_non_trainable",
    [("se", 2_530_992, 0), ("cbam", 2_532_592, 32)],
)
def test_published_attention_sizes(attention, added, added_non_trainable):
    base = models.ResNet50(conv_bias=False)
    model = models.ResNet50(conv_bias=False, attention=attention)
    assert trainable(model) - trainable(base) == added
    assert non_trainable(model) - non_trainable(base) == added_non_trainable
    if attention == "se":
        assert trainable(model) == 28_088_024  # the papers' 28.09M
    # one block per residual block: 3 + 4 + 6 + 3
    names = [layer.name for layer in attention_layers(model)]
    assert len(names) == 16 and names[0] == "conv2_block1_attention"


@pytest.mark.parametrize("depth", [50, 101, 152])
def test_same_layers_as_keras_applications(depth):
    ours = models.resnet(depth)
    theirs = getattr(keras.applications, f"ResNet{depth}")(weights=None)
    assert layer_names(ours) == layer_names(theirs)
    assert [tuple(w.shape) for w in ours.weights] == [
        tuple(w.shape) for w in theirs.weights
    ]


def test_keras_applications_weights_give_the_same_outputs():
    theirs = keras.applications.ResNet50(weights=None)
    ours = models.ResNet50()
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (1, 224, 224, 3))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-6
    )


def test_cifar_stem():
    model = models.ResNet18(input_shape=(32, 32, 3), stem="cifar", classes=10)
    assert model.get_layer("conv1_conv").kernel.shape == (3, 3, 3, 64)
    assert "pool1_pool" not in layer_names(model)
    assert model.get_layer("conv5_block2_out").output.shape == (None, 4, 4, 512)


@pytest.mark.parametrize("attention", [None, "se", "cbam"])
def test_unknown_spatial_size(attention):
    model = models.ResNet18(
        input_shape=(None, None, 3),
        include_top=False,
        pooling="avg",
        attention=attention,
    )
    for size in (32, 48):
        x = np.zeros((1, size, size, 3), "float32")
        assert model.predict(x, verbose=0).shape == (1, 512)


def test_input_tensor():
    inputs = keras.Input((64, 64, 3))
    model = models.ResNet34(input_tensor=inputs, include_top=False)
    assert model.inputs[0] is inputs
    assert model.output_shape == (None, 2, 2, 512)


@pytest.mark.parametrize(
    "pooling, shape",
    [(None, (None, 1, 1, 2048)), ("avg", (None, 2048)), ("max", (None, 2048))],
)
def test_pooling(pooling, shape):
    model = models.ResNet50(
        include_top=False, input_shape=(32, 32, 3), pooling=pooling
    )
    assert model.output_shape == shape


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 42}, r"depth must be one of \[18, 34, 50, 101, 152\]"),
        ({"depth": 18, "stem": "tiny"}, r"stem must be one of .*'tiny'"),
        (
            {"depth": 18, "input_shape": (16, 16, 3)},
            r"downsamples its input by 32.* input_shape=\(16, 16, 3\)",
        ),
        (
            {"depth": 18, "stem": "cifar", "input_shape": (4, 4, 3)},
            r"at least 8",
        ),
        ({"depth": 18, "input_shape": (32, 32)}, r"must have 3 entries"),
        (
            {"depth": 18, "attention": "sqeeze"},
            r"Unknown attention block 'sqeeze'.*one of \['ba', 'bam'",
        ),
        (
            {"depth": 18, "attention": ["se", "se"]},
            r"one entry per stage \(4 here",
        ),
        (
            {"depth": 18, "pooling": "mean", "include_top": False},
            r"pooling must be one of \['avg', 'max'\]",
        ),
        ({"depth": 18, "classes": 0}, r"classes must be a positive integer"),
        ({"depth": 18, "conv_bias": "no"}, r"conv_bias must be True or False"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.resnet(**kwargs)


def test_doc_example_names():
    model = keras_chattn.models.ResNet18(
        input_shape=(32, 32, 3), stem="cifar", attention="cbam"
    )
    layer = model.get_layer("conv4_block2_attention")
    assert isinstance(layer, keras_chattn.CBAM)
    assert layer.input.shape == (None, 8, 8, 256)
