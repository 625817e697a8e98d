"""attention_position, per-stage lists and attention_every in the builders
and in add_attention: where each block sits, what it costs, and that both
paths build the same network."""

import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.models import placement

POSITIONS = models.POSITIONS


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def source(layer):
    """The name of the layer whose output `layer` is called on."""
    (tensor,) = layer._inbound_nodes[0].input_tensors
    return tensor._keras_history.operation.name


def consumers(layer):
    return sorted(node.operation.name for node in layer._outbound_nodes)


@pytest.fixture(scope="module")
def se_resnet50():
    """SE-ResNet-50 (no convolution biases: timm's and the SE paper's
    network) at each position, built once."""
    return {
        position: models.ResNet50(
            attention="se",
            conv_bias=False,
            input_shape=(64, 64, 3),
            attention_position=position,
        )
        for position in POSITIONS
    }


# Where the block of conv3_block2 (an identity shortcut) and conv3_block1
# (a projection shortcut) is called, and who takes its output.
WHERE = {
    "standard": (
        ("conv3_block2_3_bn", ["conv3_block2_add"]),
        ("conv3_block1_3_bn", ["conv3_block1_add"]),
    ),
    "pre": (
        ("conv3_block1_out", ["conv3_block2_1_conv"]),
        ("conv2_block3_out", ["conv3_block1_1_conv"]),
    ),
    "post": (
        ("conv3_block2_out", ["conv3_block3_1_conv", "conv3_block3_add"]),
        ("conv3_block1_out", ["conv3_block2_1_conv", "conv3_block2_add"]),
    ),
    "identity": (
        ("conv3_block1_out", ["conv3_block2_add"]),
        ("conv3_block1_0_bn", ["conv3_block1_add"]),
    ),
    "after_conv1": (
        ("conv3_block2_1_relu", ["conv3_block2_2_conv"]),
        ("conv3_block1_1_relu", ["conv3_block1_2_conv"]),
    ),
    "after_conv2": (
        ("conv3_block2_2_relu", ["conv3_block2_3_conv"]),
        ("conv3_block1_2_relu", ["conv3_block1_3_conv"]),
    ),
}
# Trainable weights of SE-ResNet-50 at each position: the paper's (and
# timm's seresnet50) 28,088,024 where the block sees the block's output
# width; "pre" sees the block input's, the inner positions the
# bottleneck's.
PARAMETERS = {
    "standard": 28_088_024,
    "post": 28_088_024,
    "identity": 28_088_024,
    "pre": 27_562_140,
    "after_conv1": 25_718_228,
    "after_conv2": 25_718_228,
}


@pytest.mark.parametrize("position", POSITIONS)
def test_where_each_position_puts_the_block(se_resnet50, position):
    model = se_resnet50[position]
    for block, (called_on, feeds) in zip(
        ("conv3_block2", "conv3_block1"), WHERE[position], strict=True
    ):
        layer = model.get_layer(f"{block}_attention")
        assert source(layer) == called_on, (position, block)
        assert consumers(layer) == feeds, (position, block)
    assert trainable(model) == PARAMETERS[position]
    # One block per residual block, wherever it goes.
    blocks = [
        layer for layer in model.layers if layer.name.endswith("_attention")
    ]
    assert len(blocks) == 16


def test_pre_leaves_the_projection_shortcut_the_block_input(se_resnet50):
    model = se_resnet50["pre"]
    shortcut = model.get_layer("conv3_block1_0_conv")
    assert source(shortcut) == "conv2_block3_out"


def test_basic_block_positions_and_its_missing_after_conv2():
    for position in POSITIONS[:-1]:
        model = models.CifarResNet20(
            attention="se", attention_position=position
        )
        layer = model.get_layer("conv3_block2_attention")
        expected = {
            "standard": "conv3_block2_2_bn",
            "pre": "conv3_block1_out",
            "post": "conv3_block2_out",
            "identity": "conv3_block1_out",
            "after_conv1": "conv3_block2_1_relu",
        }[position]
        assert source(layer) == expected
    with pytest.raises(ValueError, match=r"'after_conv2' does not exist in"):
        models.CifarResNet20(attention="se", attention_position="after_conv2")


@pytest.mark.parametrize("position", POSITIONS)
def test_sequence_resnet_takes_every_position(position):
    model = models.resnet1d(
        input_shape=(64, 1), classes=2, attention="eca",
        attention_position=position,
    )  # fmt: skip
    layer = model.get_layer("block2_attention")
    expected = {
        "standard": "block2_3_bn",
        "pre": "block1_out",
        "post": "block2_out",
        "identity": "block2_0_bn",
        "after_conv1": "block2_1_relu",
        "after_conv2": "block2_2_relu",
    }[position]
    assert source(layer) == expected


@pytest.mark.parametrize("block", ["c3", "sk", "bam", "danet", "ba"])
def test_blocks_with_their_own_place_refuse_other_positions(block):
    with pytest.raises(
        ValueError, match=r"does not apply to .* it takes only \['standard'\]"
    ):
        models.CifarResNet20(attention=block, attention_position="post")


@pytest.mark.parametrize("block", ["c3", "bam", "danet"])
def test_blocks_placed_once_per_stage_refuse_every(block):
    with pytest.raises(ValueError, match=r"it takes only 1"):
        models.CifarResNet20(attention=block, attention_every=2)


def test_simam_moves_like_a_branch_block():
    model = models.CifarResNet20(attention="simam", attention_position="post")
    assert (
        source(model.get_layer("conv2_block1_attention")) == "conv2_block1_out"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"attention_position": "middle"}, r"attention_position must be one"),
        ({"attention_position": ["post"]}, r"one entry per stage \(3 here\)"),
        ({"attention_every": 0}, r"attention_every must be a positive int"),
        ({"attention_every": [1, 2]}, r"one entry per stage \(3 here\)"),
        (
            {"attention_kwargs": [None, {"reduction": 4}, None]},
            r"kwargs for stage 2 .* that stage has no block",
        ),
    ],
)
def test_bad_placement_arguments(kwargs, message):
    attention = kwargs.pop("attention", "se")
    if "attention_kwargs" in kwargs:
        attention = [None, None, "se"]
    with pytest.raises(ValueError, match=message):
        models.CifarResNet20(attention=attention, **kwargs)


def test_every_counts_from_each_stages_first_block():
    model = models.ResNet50(
        attention="se", input_shape=(64, 64, 3), attention_every=[1, 2, 3, 2]
    )
    names = [
        layer.name
        for layer in model.layers
        if layer.name.endswith("_attention")
    ]
    assert names == [
        "conv2_block1_attention", "conv2_block2_attention",
        "conv2_block3_attention", "conv3_block1_attention",
        "conv3_block3_attention", "conv4_block1_attention",
        "conv4_block4_attention", "conv5_block1_attention",
        "conv5_block3_attention",
    ]  # fmt: skip


def test_every_in_a_plain_network_counts_convolutions():
    model = models.VGG16(
        include_top=False, input_shape=(32, 32, 3), attention="se",
        attention_every=2,
    )  # fmt: skip
    names = [
        layer.name
        for layer in model.layers
        if layer.name.endswith("_attention")
    ]
    assert names == [
        "block1_conv1_attention", "block2_conv1_attention",
        "block3_conv1_attention", "block3_conv3_attention",
        "block4_conv1_attention", "block4_conv3_attention",
        "block5_conv1_attention", "block5_conv3_attention",
    ]  # fmt: skip


PER_STAGE = {
    "attention": [None, "se", "cbam"],
    "attention_kwargs": [None, {"reduction": 4}, {"spatial_kernel_size": 3}],
    "attention_position": ["standard", "post", "pre"],
    "attention_every": [1, 2, 1],
}


def test_per_stage_lists_build_train_save_and_reload(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.CifarResNet20(classes=4, **PER_STAGE)
    blocks = {
        layer.name: layer
        for layer in model.layers
        if layer.name.endswith("_attention")
    }
    assert sorted(blocks) == [
        "conv3_block1_attention", "conv3_block3_attention",
        "conv4_block1_attention", "conv4_block2_attention",
        "conv4_block3_attention",
    ]  # fmt: skip
    assert blocks["conv3_block1_attention"].reduction == 4
    assert blocks["conv4_block2_attention"].spatial_kernel_size == 3
    assert source(blocks["conv3_block1_attention"]) == "conv3_block1_out"
    assert source(blocks["conv4_block2_attention"]) == "conv4_block1_out"
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    images = rng.normal(size=(8, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 4, size=8)
    history = model.fit(images, labels, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    path = tmp_path / "placed.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0),
        model.predict(images, verbose=0),
        atol=1e-6,
    )


def wiring(model):
    """Every layer's class, inputs (by layer name) and weights count, the
    input layer under one name."""
    rename = {
        layer.name: "input"
        for layer in model.layers
        if not layer._inbound_nodes[0].input_tensors
    }

    def producer(tensor):
        name = tensor._keras_history.operation.name
        return rename.get(name, name)

    return {
        rename.get(layer.name, layer.name): (
            type(layer).__name__,
            tuple(
                tuple(producer(t) for t in node.input_tensors)
                for node in layer._inbound_nodes
            ),
            layer.count_params(),
        )
        for layer in model.layers
    }


@pytest.mark.parametrize("position", POSITIONS[:-1])
def test_builder_and_add_attention_agree_on_per_stage_placement(position):
    placement = {**PER_STAGE, "attention_position": position}
    built = models.CifarResNet20(**placement)
    inserted = models.add_attention(
        models.CifarResNet20(),
        placement["attention"],
        placement["attention_kwargs"],
        attention_position=position,
        attention_every=placement["attention_every"],
    )
    assert wiring(inserted) == wiring(built)
    images = np.random.default_rng(1).normal(size=(2, 32, 32, 3))
    inserted.set_weights(built.get_weights())
    np.testing.assert_allclose(
        inserted.predict(images, verbose=0),
        built.predict(images, verbose=0),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "position",
    [
        pytest.param("after_conv2"),
        pytest.param("identity", marks=pytest.mark.slow),
        pytest.param("pre", marks=pytest.mark.slow),
        pytest.param("post", marks=pytest.mark.slow),
    ],
)
def test_builder_and_add_attention_agree_on_a_bottleneck_network(position):
    shape = (64, 64, 3)
    built = models.ResNet50(
        attention="se", input_shape=shape, attention_position=position,
        attention_every=2,
    )  # fmt: skip
    inserted = models.add_attention(
        models.ResNet50(input_shape=shape), "se",
        attention_position=position, attention_every=2,
    )  # fmt: skip
    assert wiring(inserted) == wiring(built)


def test_add_attention_moves_blocks_in_a_keras_applications_resnet():
    base = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(32, 32, 3)
    )
    model = models.add_attention(base, "se", attention_position="identity")
    layer = model.get_layer("conv4_block1_attention")
    assert source(layer) == "conv4_block1_0_bn"
    assert consumers(layer) == ["conv4_block1_add"]
    layer = model.get_layer("conv4_block2_attention")
    assert source(layer) == "conv4_block1_out"
    assert consumers(layer) == ["conv4_block2_add"]


def test_add_attention_refusals():
    plain = models.VGG16(include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match=r"has no residual blocks"):
        models.add_attention(plain, "se", attention_position="post")
    resnet = models.CifarResNet20()
    with pytest.raises(ValueError, match=r"one entry per stage \(3 here\)"):
        models.add_attention(resnet, ["se", "se"])
    with pytest.raises(ValueError, match=r"need where='auto'"):
        models.add_attention(resnet, ["se"] * 3, where=["conv2_block1_out"])
    with pytest.raises(ValueError, match=r"with a list of layers"):
        models.add_attention(
            resnet, "se", where=["conv2_block1_out"], attention_every=2
        )
    with pytest.raises(ValueError, match=r"'after_conv2' does not exist"):
        models.add_attention(resnet, "se", attention_position="after_conv2")
    with pytest.raises(ValueError, match=r"it takes only \['standard'\]"):
        models.add_attention(resnet, "bam", attention_position="pre")


def test_a_plain_stage_refuses_a_moved_block():
    spec = placement.attention_spec("se", position="post")
    with pytest.raises(ValueError, match=r"does not exist in a plain stage"):
        models.apply_plain_stage(keras.Input((8, 8, 3)), 4, 2, attention=spec)


def test_a_resolved_spec_is_not_given_other_placement_arguments():
    spec = placement.attention_spec("se", position="post")
    model = models.CifarResNet20(attention=spec)
    assert source(model.get_layer("conv2_block1_attention")) == (
        "conv2_block1_out"
    )
    with pytest.raises(ValueError, match=r"carries its own arguments"):
        models.CifarResNet20(attention=spec, attention_position="pre")
