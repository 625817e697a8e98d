import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.layers import CBAM
from keras_chattn.layers import ChannelAttention
from keras_chattn.layers import SpatialAttention
from keras_chattn.models import costs
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    # Channel half 8,464; spatial half 98 conv + 2 BN trainable, 2 moving.
    harness.LayerCase(
        CBAM, {}, (6, 7, 256), trainable=8464 + 98 + 2, non_trainable=2
    ),
    harness.LayerCase(
        CBAM,
        {"reduction": 4, "pool_types": ["avg", "lse"], "use_spatial": False},
        (5, 4, 16),
        trainable=16 * 4 + 4 + 4 * 16 + 16,
        id="CBAM-channel-only",
    ),
    harness.LayerCase(
        CBAM,
        {"reduction": 2, "spatial_kernel_size": 3, "use_batchnorm": False},
        (4, 6, 8),
        trainable=8 * 4 + 4 + 4 * 8 + 8 + 18,
        id="CBAM-k3-nobn",
    ),
]

test_contract = harness.contract_test(CASES)


def test_weight_counts_of_the_issue():
    layer = CBAM()
    layer.build((None, 14, 14, 256))
    channel = layer.channel_attention
    spatial = layer.spatial_attention
    assert harness.count(channel.trainable_weights) == 8464
    assert harness.count(spatial.conv.trainable_weights) == 98
    assert harness.count(spatial.batchnorm.trainable_weights) == 2
    assert harness.count(layer.non_trainable_weights) == 2
    assert harness.count(layer.trainable_weights) == 8564


def test_costs_in_both_conventions():
    # The papers' (weighted layers): the shared MLP twice (two pools) and
    # the 7x7 convolution from 2 maps at every position. Ours adds the two
    # global pools, their sum, the rescaling, the channel max and mean and
    # the spatial rescaling.
    shape = (None, 7, 7, 256)
    elements = 7 * 7 * 256
    mlp = 2 * (256 * 16 + 16 * 256)
    conv = 7 * 7 * 49 * 2
    layer = CBAM()
    layer.build(shape)
    channel_work = 2 * elements + 2 * 256 + elements
    spatial_work = 2 * elements + elements
    assert costs.block_macs(layer, shape) == (
        mlp + conv,
        mlp + conv + channel_work + spatial_work,
    )
    alone = CBAM(use_spatial=False)
    alone.build(shape)
    assert costs.block_macs(alone, shape) == (mlp, mlp + channel_work)


def test_is_channel_then_spatial_attention():
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 16)).astype("float32")
    layer = CBAM(reduction=4, spatial_kernel_size=3)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    mlp = [np.array(w, "float64") for w in layer.channel_attention.weights]
    spatial = layer.spatial_attention
    bn = spatial.batchnorm
    expected = reference.spatial_attention(
        reference.channel_attention(x.astype("float64"), mlp, ("avg", "max")),
        np.array(spatial.conv.kernel, "float64"),
        [
            np.array(w, "float64")
            for w in (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance)
        ],
    )
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)), expected, rtol=1e-5, atol=1e-6
    )


def test_halves_are_the_public_layers():
    layer = CBAM(reduction=8, pool_types=("max",), spatial_kernel_size=5)
    layer.build((None, 8, 8, 16))  # composite blocks create them at build
    assert isinstance(layer.channel_attention, ChannelAttention)
    assert isinstance(layer.spatial_attention, SpatialAttention)
    assert layer.channel_attention.pool_types == ("max",)
    assert layer.spatial_attention.kernel_size == 5
    channel_only = CBAM(use_spatial=False)
    channel_only.build((None, 8, 8, 16))
    assert channel_only.spatial_attention is None


def test_sequential_and_model_add():
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(32, 3, padding="same"),
            keras_chattn.CBAM(reduction=8),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )
    other = keras.Sequential([keras.Input((16, 16, 3))])
    other.add(keras.layers.Conv2D(32, 3, padding="same"))
    other.add(keras_chattn.CBAM(reduction=8))
    other.add(keras_chattn.SqueezeExcite(reduction=8))
    assert model.output_shape == (None, 10)
    assert other.output_shape == (None, 16, 16, 32)
    x = np.random.default_rng(0).normal(size=(8, 16, 16, 3)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, size=(8,))
    model.compile("adam", "sparse_categorical_crossentropy")
    loss = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    assert np.isfinite(loss)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"spatial_kernel_size": 4}, r"spatial_kernel_size must be an odd"),
        ({"spatial_kernel_size": 0}, r"spatial_kernel_size must be a positive"),
        ({"reduction": 0}, r"reduction must be a positive integer"),
        ({"pool_types": ("avg", "median")}, r"pool_types must be"),
        ({"use_spatial": "no"}, r"use_spatial must be True or False"),
        ({"use_batchnorm": None}, r"use_batchnorm must be True or False"),
        ({"min_units": -1}, r"min_units must be a positive integer"),
        ({"data_format": "channels"}, r"data_format must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CBAM(**kwargs)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((None, 32), r"CBAM expects a 3-D, 4-D or 5-D input"),
        ((None, 4, 4, None), r"CBAM needs a known channel dimension"),
    ],
)
def test_bad_input_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        CBAM().build(shape)


def test_min_units_wider_than_channels_is_refused():
    with pytest.raises(ValueError, match=r"min_units=8 .* 4 channels"):
        CBAM(min_units=8).build((None, 4, 4, 4))
