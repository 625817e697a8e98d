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


BUILDERS = {
    # name: (builder, kwargs, (maps, width) of "bridge", of "bridge_stages")
    "cifar_resnet20": (
        models.cifar_resnet,
        {"depth": 20},
        # the stem + 2 convolutions in each of 9 blocks
        (19, 16 + 6 * 16 + 6 * 32 + 6 * 64),
        (3, 16 + 32 + 64),
    ),
    "resnet18_cifar": (
        models.ResNet18,
        {"stem": "cifar", "input_shape": (32, 32, 3), "classes": 10},
        (17, 64 + 4 * (64 + 128 + 256 + 512)),
        (4, 64 + 128 + 256 + 512),
    ),
    "vgg16": (
        models.VGG16,
        {"input_shape": (32, 32, 3), "classes": 10},
        (13, 2 * 64 + 2 * 128 + 3 * 256 + 3 * 512 + 3 * 512),
        (5, 64 + 128 + 256 + 512 + 512),
    ),
    "small_cnn": (
        models.small_cnn,
        {"dataset": "cifar100", "base_width": 8},
        (8, 2 * (8 + 16 + 32 + 64)),
        (4, 8 + 16 + 32 + 64),
    ),
}


@pytest.mark.parametrize("head", ["bridge", "bridge_stages"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_bridge_head_on_every_builder(name, head):
    builder, kwargs, every_conv, every_stage = BUILDERS[name]
    maps, width = every_conv if head == "bridge" else every_stage
    gap = builder(**kwargs)
    bridge = builder(**kwargs, head=head)
    pool = bridge.get_layer("bridge_pool")
    assert isinstance(pool, CrossLayerPooling)
    assert len(pool._inbound_nodes[0].parent_nodes) == maps
    units = pool.linear.units
    assert pool.linear.kernel.shape == (width, units)
    assert bridge.output_shape == gap.output_shape


def test_bridge_head_pools_every_convolution_of_the_main_path():
    model = models.cifar_resnet(20, shortcut="B", head="bridge")
    pool = model.get_layer("bridge_pool")
    parents = [n.operation.name for n in pool._inbound_nodes[0].parent_nodes]
    assert parents[:5] == [
        "conv1_relu",
        "conv2_block1_1_relu",
        "conv2_block1_2_bn",
        "conv2_block2_1_relu",
        "conv2_block2_2_bn",
    ]
    assert parents[-1] == "conv4_block3_2_bn"
    assert not [p for p in parents if "_0_" in p]  # no shortcut convs
    # The report's head on CIFAR ResNet-20: 688 pooled channels -> 64.
    assert count(pool.trainable_weights) == 688 * 64 + 64


def test_bridge_head_without_top_and_errors():
    model = models.cifar_resnet(20, include_top=False, head="bridge")
    assert model.output_shape == (None, 64)
    with pytest.raises(
        ValueError,
        match=r"head must be one of \['bridge', 'bridge_stages', 'gap'\]",
    ):
        models.cifar_resnet(20, head="concat")
    with pytest.raises(ValueError, match=r"pass pooling=None"):
        models.cifar_resnet(20, include_top=False, head="bridge", pooling="avg")


@pytest.mark.slow
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
