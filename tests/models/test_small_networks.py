"""CIFAR ResNets, VGG and the CC-block paper's small CNNs."""

import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.models.shortcut import ChannelPadShortcut
from tests.harness import count
from tests.models.helpers import layer_names


@pytest.mark.parametrize(
    "depth, expected",
    [
        (20, 269_722),
        (32, 464_154),
        (44, 658_586),
        (56, 853_018),
        (110, 1_727_962),
    ],
)
def test_cifar_resnet_sizes(depth, expected):
    model = models.cifar_resnet(depth)
    assert count(model.trainable_weights) == expected


def test_cifar_resnet_wrappers_and_100_classes():
    assert count(models.CifarResNet56().trainable_weights) == 853_018
    model = models.CifarResNet20(classes=100)
    assert count(model.trainable_weights) == 275_572


def test_cifar_resnet_feature_maps_and_shortcuts():
    model = models.cifar_resnet(20, include_top=False)
    assert model.get_layer("conv2_block3_out").output.shape == (
        None,
        32,
        32,
        16,
    )
    assert model.get_layer("conv3_block1_out").output.shape == (
        None,
        16,
        16,
        32,
    )
    assert model.get_layer("conv4_block3_out").output.shape == (None, 8, 8, 64)
    assert isinstance(model.get_layer("conv3_block1_0_pad"), ChannelPadShortcut)
    option_b = models.cifar_resnet(20, shortcut="B", include_top=False)
    assert option_b.get_layer("conv3_block1_0_conv").kernel.shape == (
        1,
        1,
        16,
        32,
    )
    # 1x1 convs + BN in two places: (16*32 + 2*32) + (32*64 + 2*64)
    assert (
        count(option_b.trainable_weights) - count(model.trainable_weights)
        == 16 * 32 + 64 + 32 * 64 + 128
    )


@pytest.mark.parametrize(
    "depth, message",
    [
        (21, r"depth must be 6n \+ 2 .* depth=21"),
        (2, r"depth=2"),
        ("20", r"depth='20'"),
        (20.0, r"depth=20\.0"),
    ],
)
def test_cifar_resnet_bad_depth(depth, message):
    with pytest.raises(ValueError, match=message):
        models.cifar_resnet(depth)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shortcut": "C"}, r"shortcut must be one of \['A', 'B'\]"),
        ({"input_shape": (2, 2, 3)}, r"at least 4"),
        ({"weights": "imagenet"}, r"no ImageNet weights for cifar_resnet20"),
        ({"attention": ["se"]}, r"one entry per stage \(3 here"),
        (
            {"batchnorm_momentum": 1.0},
            r"batchnorm_momentum must be a number in \[0.0, 1.0\)",
        ),
        (
            {"batchnorm_epsilon": 0},
            r"batchnorm_epsilon must be a finite number > 0",
        ),
        (
            {"kernel_initializer": "he"},
            r"kernel_initializer must be the name of a Keras initializer.*'he'",
        ),
        ({"conv_bias": 1}, r"conv_bias must be True or False"),
    ],
)
def test_cifar_resnet_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.cifar_resnet(20, **kwargs)


def test_cifar_resnet_with_keras_defaults():
    # What a hand-written Keras ResNet-20 gets: projection shortcuts,
    # BatchNorm momentum 0.99 and epsilon 1e-3, Glorot, conv biases.
    model = models.cifar_resnet(
        20,
        shortcut="B",
        batchnorm_momentum=0.99,
        batchnorm_epsilon=1e-3,
        kernel_initializer="glorot_uniform",
        conv_bias=True,
    )
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    convs = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert len(norms) == len(convs) == 21  # 19 + 2 projection shortcuts
    assert {(n.momentum, n.epsilon) for n in norms} == {(0.99, 1e-3)}
    assert all(c.use_bias for c in convs)
    assert {type(c.kernel_initializer).__name__ for c in convs} == {
        "GlorotUniform"
    }
    # The paper defaults plus 2 projections (1x1 conv + bias + BN) and the
    # 19 convolution biases.
    projections = (16 * 32 + 32 + 2 * 32) + (32 * 64 + 64 + 2 * 64)
    biases = 16 + 6 * 16 + 6 * 32 + 6 * 64
    assert count(model.trainable_weights) == 269_722 + projections + biases


def test_channel_pad_shortcut_maths():
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 6)).astype("float32")
    y = np.array(ChannelPadShortcut(10, stride=2)(x))
    assert y.shape == (2, 3, 3, 10)
    np.testing.assert_array_equal(y[..., 2:8], x[:, ::2, ::2, :])
    assert not y[..., :2].any() and not y[..., 8:].any()
    first = ChannelPadShortcut(10, stride=2, data_format="channels_first")
    y_first = np.array(first(np.transpose(x, (0, 3, 1, 2))))
    np.testing.assert_array_equal(y_first, np.transpose(y, (0, 3, 1, 2)))
    assert first.compute_output_shape((None, 6, 5, 5)) == (None, 10, 3, 3)


def test_channel_pad_shortcut_config_and_errors():
    layer = ChannelPadShortcut(32, stride=2)
    clone = ChannelPadShortcut.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match=r"filters must be a positive"):
        ChannelPadShortcut(0)
    with pytest.raises(ValueError, match=r"channel count <= filters=8"):
        ChannelPadShortcut(8)(keras.Input((4, 4, 16)))


def test_vgg_sizes_and_keras_applications_layers():
    assert models.VGG16().count_params() == 138_357_544
    ours = models.VGG19()
    theirs = keras.applications.VGG19(weights=None)
    assert ours.count_params() == theirs.count_params() == 143_667_240
    assert layer_names(ours) == layer_names(theirs)


def test_vgg_keras_weights_give_the_same_outputs():
    theirs = keras.applications.VGG16(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )
    ours = models.VGG16(include_top=False, input_shape=(32, 32, 3))
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 11}, r"depth must be 16 or 19"),
        (
            {"depth": 16, "input_shape": (None, None, 3)},
            r"include_top=True flattens",
        ),
        (
            {"depth": 16, "input_shape": (16, 16, 3), "include_top": False},
            r"at least 32",
        ),
    ],
)
def test_vgg_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.vgg(**kwargs)


@pytest.mark.parametrize(
    "dataset, output_shape, params",
    [
        # Table 1 of the CC-block paper with 48 first channels.
        ("mnist", (None, 2, 2, 192), None),
        ("cifar10", (None, 2, 2, 384), None),
        ("cifar100", (None, 2, 2, 384), None),
    ],
)
def test_small_cnn_table_1_shapes(dataset, output_shape, params):
    model = models.small_cnn(dataset, base_width=48, include_top=False)
    assert model.output_shape == output_shape


def test_small_cnn_cifar100_size():
    model = models.small_cnn("cifar100", base_width=32)
    assert count(model.trainable_weights) == 1_316_356
    assert model.output_shape == (None, 100)
    convs = [c for c in model.layers if isinstance(c, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 32, 64, 64, 128, 128, 256, 256]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dataset": "svhn"}, r"dataset must be one of .*'svhn'"),
        ({"base_width": 0}, r"base_width must be a positive integer"),
        ({"input_shape": (8, 8, 3)}, r"at least 16"),
        ({"weights": "imagenet"}, r"no ImageNet weights for small_cnn_cifar10"),
    ],
)
def test_small_cnn_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.small_cnn(**kwargs)


def test_basic_block_refuses_an_unknown_shortcut():
    with pytest.raises(
        ValueError,
        match=r"shortcut must be one of \['avg', 'conv', 'identity', 'pad'\]",
    ):
        models.apply_basic_block(keras.Input((8, 8, 4)), 8, shortcut="A")
