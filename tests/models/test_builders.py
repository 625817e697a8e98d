"""Every registry block in every builder, and what all builders share."""

import functools
import re

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn import models
from keras_chattn.layers.registry import ATTENTION_LAYERS
from keras_chattn.models import block_table
from tests.harness import count
from tests.harness import to_numpy
from tests.models.helpers import attention_layers

BLOCKS = [None, *ATTENTION_LAYERS]

# Small instances of every builder: (builder, kwargs, input shape).
BUILDERS = {
    "ResNet18-cifar": (
        models.ResNet18,
        {"stem": "cifar", "classes": 10, "input_shape": (32, 32, 3)},
    ),
    "ResNet50": (
        models.ResNet50,
        {"include_top": False, "pooling": "avg", "input_shape": (32, 32, 3)},
    ),
    "VGG16": (
        models.VGG16,
        {"include_top": False, "pooling": "avg", "input_shape": (32, 32, 3)},
    ),
    # Depth 8: every placement of depth 20 (3 stages, a block each), in a
    # third of the time.
    "cifar_resnet8": (models.cifar_resnet, {"depth": 8}),
    "small_cnn-cifar100": (
        models.small_cnn,
        {"dataset": "cifar100", "base_width": 8},
    ),
    "small_cnn-mnist": (
        models.small_cnn,
        {"dataset": "mnist", "base_width": 4},
    ),
}
# The ones small enough for a forward/backward pass and a save/load here.
TRAINABLE = ["cifar_resnet8", "small_cnn-cifar100", "small_cnn-mnist"]


def build(builder_id, attention, **overrides):
    builder, kwargs = BUILDERS[builder_id]
    return builder(**{**kwargs, "attention": attention, **overrides})


@functools.cache
def baseline_model(builder_id):
    """The builder's model without blocks, built once for every block."""
    return build(builder_id, None)


@pytest.mark.parametrize("attention", BLOCKS, ids=str)
@pytest.mark.parametrize("builder_id", list(BUILDERS))
def test_every_block_builds_in_every_builder(builder_id, attention):
    model = build(builder_id, attention)
    blocks = attention_layers(model)
    if attention is None:
        assert blocks == []
        return
    cls = ATTENTION_LAYERS[attention]
    assert blocks and all(type(b) is cls for b in blocks)
    baseline = baseline_model(builder_id)
    # A block that replaces convolutions (SK) removes their weights.
    names = {layer.name for layer in model.layers}
    replaced = [
        layer
        for layer in baseline.layers
        if layer.name not in names
        and not isinstance(layer, keras.layers.InputLayer)
    ]
    kind = block_table.placement_of(cls).kind
    assert bool(replaced) == (kind == "replace_conv")
    kept = count(baseline.trainable_weights) - sum(
        count(layer.trainable_weights) for layer in replaced
    )
    added = count(model.trainable_weights) - kept
    assert added == sum(count(b.trainable_weights) for b in blocks)


@pytest.mark.parametrize("attention", BLOCKS, ids=str)
@pytest.mark.parametrize("builder_id", TRAINABLE)
def test_train_step_and_keras_round_trip(builder_id, attention, tmp_path):
    model = build(builder_id, attention)
    shape = model.input_shape[1:]
    classes = model.output_shape[-1]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, *shape)).astype("float32")
    y = rng.integers(0, classes, size=(4,))
    # Eagerly: tracing a train and a predict function per model would cost
    # more than the step itself on these small models.
    model.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=True)
    loss = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    assert np.isfinite(loss)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        to_numpy(reloaded(x, training=False)),
        to_numpy(model(x, training=False)),
        atol=1e-6,
    )


def test_residual_placement_is_after_last_bn_before_add():
    model = models.cifar_resnet(20, attention="se")
    block = model.get_layer("conv3_block2_attention")
    assert block._inbound_nodes[0].parent_nodes[0].operation.name == (
        "conv3_block2_2_bn"
    )
    add = model.get_layer("conv3_block2_add")
    parents = [n.operation.name for n in add._inbound_nodes[0].parent_nodes]
    assert "conv3_block2_attention" in parents


def test_plain_placement_is_after_every_conv():
    model = models.VGG19(
        include_top=False, input_shape=(32, 32, 3), attention="se"
    )
    convs = [c.name for c in model.layers if isinstance(c, keras.layers.Conv2D)]
    assert [b.name for b in attention_layers(model)] == [
        f"{name}_attention" for name in convs
    ]
    assert len(convs) == 16


def test_per_stage_list_and_kwargs():
    model = models.cifar_resnet(
        20,
        attention=[None, "se", keras_chattn.CBAM],
        attention_kwargs={"reduction": 4},
    )
    names = {b.name: b for b in attention_layers(model)}
    assert sorted(names) == [
        f"conv{s}_block{i}_attention" for s in (3, 4) for i in (1, 2, 3)
    ]
    assert isinstance(
        names["conv3_block1_attention"], keras_chattn.SqueezeExcite
    )
    assert isinstance(names["conv4_block3_attention"], keras_chattn.CBAM)
    assert all(b.reduction == 4 for b in names.values())


def test_callable_factory():
    def factory(name=None, **kwargs):
        return keras_chattn.ChannelAttention(
            reduction=2, pool_types=("max",), name=name
        )

    model = models.small_cnn("cifar10", base_width=4, attention=factory)
    blocks = attention_layers(model)
    assert len(blocks) == 4
    assert all(b.pool_types == ("max",) for b in blocks)


class StageInputSE(keras_chattn.SqueezeExcite):
    """A block registered to go at the input of every stage."""


block_table.register_placement(StageInputSE, "stage_input")


@pytest.mark.parametrize(
    "builder_id, names",
    [
        (
            "cifar_resnet8",
            ["conv2_attention", "conv3_attention", "conv4_attention"],
        ),
        ("ResNet18-cifar", [f"conv{s}_attention" for s in (2, 3, 4, 5)]),
        ("VGG16", [f"block{b}_attention" for b in (1, 2, 3, 4, 5)]),
        ("small_cnn-mnist", ["block1_attention", "block2_attention"]),
    ],
)
def test_placement_is_a_property_of_the_block(builder_id, names):
    model = build(builder_id, StageInputSE, attention_kwargs={"min_units": 1})
    assert [b.name for b in attention_layers(model)] == names


@pytest.mark.parametrize("builder_id", ["VGG16", "small_cnn-mnist"])
@pytest.mark.parametrize("block", [StageInputSE, "c3"])
def test_no_stage_input_block_on_the_image(builder_id, block):
    # A stage-input block of a plain network's first stage follows its first
    # convolution: on the image C3's output ReLU would delete every negative
    # (normalised) pixel, and a one-channel image would become relu(x).
    kwargs = {"min_units": 1} if block is StageInputSE else None
    model = build(builder_id, block, attention_kwargs=kwargs)
    first = model.get_layer("block1_attention")
    parents = [n.operation.name for n in first._inbound_nodes[0].parent_nodes]
    assert parents == ["block1_conv1"]
    model_input = model.inputs[0]
    for layer in attention_layers(model):
        assert all(
            t is not model_input for t in layer._inbound_nodes[0].input_tensors
        )


def test_layer_instance_is_refused():
    with pytest.raises(ValueError, match=r"not a layer instance"):
        models.cifar_resnet(20, attention=keras_chattn.SqueezeExcite())


@pytest.mark.parametrize("builder_id", list(BUILDERS))
def test_unknown_attention_lists_the_valid_names(builder_id):
    with pytest.raises(
        ValueError, match=re.escape(str(sorted(ATTENTION_LAYERS)))
    ):
        build(builder_id, "bamm")


def test_mixed_precision_classifier_stays_float32():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = models.cifar_resnet(20, attention="cbam")
        assert model.get_layer("predictions").compute_dtype == "float32"
        assert model.get_layer("conv2_block1_attention").compute_dtype == (
            "bfloat16"
        )
        y = model.predict(np.ones((2, 32, 32, 3), "float32"), verbose=0)
        assert y.dtype == np.float32 and np.all(np.isfinite(y))
    finally:
        keras.config.set_dtype_policy("float32")


def test_channels_first():
    keras.config.set_image_data_format("channels_first")
    try:
        model = models.cifar_resnet(
            20, attention="cbam", input_shape=(3, 32, 32)
        )
        block = model.get_layer("conv4_block1_attention")
        assert block.data_format == "channels_first"
        assert block.input.shape == (None, 64, 8, 8)
        # TensorFlow has no channels_first Conv2D kernel on CPUs without
        # oneDNN (AVX2-only machines, this project's among them); XLA has.
        model.compile(jit_compile=keras.backend.backend() == "tensorflow")
        y = model.predict(np.ones((2, 3, 32, 32), "float32"), verbose=0)
        assert y.shape == (2, 10)
    finally:
        keras.config.set_image_data_format("channels_last")
