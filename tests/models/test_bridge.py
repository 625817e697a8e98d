"""BA-Net in the builders, the bridge head, and a few real training steps."""

import pathlib

import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.data import load_cifar_arrays
from keras_chattn.layers import BridgeAttention
from keras_chattn.layers import CrossLayerPooling
from tests.harness import count
from tests.models.helpers import attention_layers

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
DATA = EXAMPLES.parent.parent / "shared" / "data" / "cifar-10-batches-py"


def test_ba_resnet50_sizes():
    base = models.ResNet50(conv_bias=False)
    model = models.ResNet50(conv_bias=False, attention="ba")
    assert count(model.trainable_weights) == 28_706_376
    assert count(model.non_trainable_weights) == 58_784
    assert count(model.trainable_weights) - count(base.trainable_weights) == (
        3_149_344
    )
    keras_convention = models.ResNet50(attention="ba")
    assert (
        count(keras_convention.trainable_weights)
        - count(models.ResNet50().trainable_weights)
        == 3_149_344
    )


def test_ba_gets_the_block_features():
    bottleneck = models.ResNet50(
        include_top=False, input_shape=(32, 32, 3), attention="ba"
    ).get_layer("conv3_block2_attention")
    parents = [
        n.operation.name for n in bottleneck._inbound_nodes[0].parent_nodes
    ]
    assert parents == [
        "conv3_block2_1_relu",
        "conv3_block2_2_relu",
        "conv3_block2_3_bn",
    ]
    basic = models.cifar_resnet(20, attention="ba").get_layer(
        "conv2_block1_attention"
    )
    parents = [n.operation.name for n in basic._inbound_nodes[0].parent_nodes]
    assert parents == ["conv2_block1_1_relu", "conv2_block1_2_bn"]


def test_ba_in_plain_networks_bridges_each_stage():
    model = models.VGG16(
        include_top=False, input_shape=(32, 32, 3), attention="ba"
    )
    blocks = attention_layers(model)
    assert [b.name for b in blocks] == [
        "block1_conv2_attention",
        "block2_conv2_attention",
        "block3_conv3_attention",
        "block4_conv3_attention",
        "block5_conv3_attention",
    ]
    assert all(isinstance(b, BridgeAttention) for b in blocks)
    assert len(blocks[2].fusions) == 3  # bridges the stage's three convs
    single = models.small_cnn("cifar10", 8, attention="ba")
    assert [len(b.fusions) for b in attention_layers(single)] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    "builder, kwargs, stages, width",
    [
        (models.cifar_resnet, {"depth": 20}, 3, 16 + 32 + 64),
        (
            models.ResNet18,
            {"stem": "cifar", "input_shape": (32, 32, 3), "classes": 10},
            4,
            64 + 128 + 256 + 512,
        ),
        (
            models.VGG16,
            {"input_shape": (32, 32, 3), "classes": 10},
            5,
            64 + 128 + 256 + 512 + 512,
        ),
        (
            models.small_cnn,
            {"dataset": "cifar100", "base_width": 8},
            4,
            8 + 16 + 32 + 64,
        ),
    ],
)
def test_bridge_head_on_every_builder(builder, kwargs, stages, width):
    gap = builder(**kwargs)
    bridge = builder(**kwargs, head="bridge")
    pool = bridge.get_layer("bridge_pool")
    assert isinstance(pool, CrossLayerPooling)
    assert len(pool._inbound_nodes[0].parent_nodes) == stages
    units = pool.linear.units
    assert pool.linear.kernel.shape == (width, units)
    assert bridge.output_shape == gap.output_shape


def test_bridge_head_without_top_and_errors():
    model = models.cifar_resnet(20, include_top=False, head="bridge")
    assert model.output_shape == (None, 64)
    with pytest.raises(
        ValueError, match=r"head must be one of \['bridge', 'gap'\]"
    ):
        models.cifar_resnet(20, head="concat")
    with pytest.raises(ValueError, match=r"pass pooling=None"):
        models.cifar_resnet(20, include_top=False, head="bridge", pooling="avg")


@pytest.mark.skipif(not DATA.is_dir(), reason=f"no shared CIFAR-10 at {DATA}")
@pytest.mark.parametrize(
    "kwargs", [{"attention": "ba"}, {"head": "bridge"}], ids=["ba", "bridge"]
)
def test_cifar_resnet20_trains_a_few_steps_on_real_images(kwargs):
    x, y = load_cifar_arrays(data_dir=DATA, limit=256, normalized=True)
    model = models.cifar_resnet(20, classifier_activation=None, **kwargs)
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]
