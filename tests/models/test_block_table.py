"""The builders' placement table: the blocks' rules, a user's registration."""

import functools

import keras
import pytest

import keras_chattn
from keras_chattn import models
from keras_chattn.layers import registry
from keras_chattn.models import block_table
from keras_chattn.tuning import spaces
from tests.models.helpers import attention_layers


@pytest.mark.parametrize(
    "input_shape, scale, expected",
    [
        ((None, 32, 32, 16), "cifar", (16, 16)),
        ((None, 16, 16, 32), "cifar", (8, 8)),
        ((None, 8, 8, 64), "cifar", (8, 8)),
        ((None, 56, 56, 64), "imagenet", (14, 14)),
        ((None, 14, 14, 1024), "imagenet", (7, 7)),
        ((None, None, None, 64), "imagenet", (14, 14)),
        ((None, 64, 32, 32), "cifar", (16, 16)),
    ],
)
def test_c3_working_size(input_shape, scale, expected):
    data_format = "channels_first" if input_shape[1] == 64 else "channels_last"
    kwargs = block_table.c3_working_size(input_shape, data_format, scale)
    assert kwargs == {"spatial_size": expected}


def test_simam_gets_the_authors_lambda_for_the_scale():
    shape = (None, 56, 56, 64)
    assert block_table.simam_lambda(shape, "channels_last", "imagenet") == {
        "e_lambda": 0.1
    }
    assert block_table.simam_lambda(shape, "channels_last", "cifar") == {
        "e_lambda": 1e-4
    }


@pytest.mark.parametrize(
    "c_in, filters, expected",
    [
        (128, 128, 32),
        (256, 256, 32),
        (64, 64, 16),
        (64, 128, 16),
        (16, 16, 4),
        (3, 64, 1),
    ],
)
def test_sk_groups(c_in, filters, expected):
    assert block_table.sk_groups(c_in, filters) == expected


def test_every_registered_block_has_a_placement_and_layers_have_none():
    kinds = {
        name: block_table.placement_of(cls).kind
        for name, cls in registry.ATTENTION_LAYERS.items()
    }
    assert kinds["c3"] == "stage_input" and kinds["sk"] == "replace_conv"
    assert kinds["bam"] == "stage_output" and kinds["danet"] == "head"
    assert kinds["simam"] == "after_3x3" and kinds["se"] == "branch"
    assert block_table.placement_of(keras_chattn.BridgeAttention).takes_features
    for cls in registry.ATTENTION_LAYERS.values():
        for attribute in (
            "placement",
            "search_space",
            "position_kwargs",
            "conv_kwargs",
            "needs_intermediate_features",
            "macs",
        ):
            assert not hasattr(cls, attribute), (cls.__name__, attribute)


def test_every_registered_block_has_a_search_space_with_its_default():
    import inspect

    for name, cls in registry.ATTENTION_LAYERS.items():
        space = spaces.search_space(name)
        assert space, name
        parameters = inspect.signature(cls).parameters
        for argument, values in space.items():
            assert parameters[argument].default in values, (name, argument)


@pytest.mark.parametrize(
    "factory",
    [
        keras_chattn.CrossChannelComm,
        functools.partial(keras_chattn.CrossChannelComm, reduction=4),
        functools.partial(
            functools.partial(keras_chattn.CrossChannelComm), reduction=4
        ),
    ],
    ids=["class", "partial", "nested-partial"],
)
def test_a_partial_takes_its_class_placement(factory):
    assert block_table.placement_of(factory).kind == "stage_input"


class _Gain(keras.layers.Layer):
    def call(self, x):
        return x


def test_a_subclass_takes_its_ancestor_placement_and_may_have_its_own():
    class C3Variant(keras_chattn.CrossChannelComm):
        pass

    assert block_table.placement_of(C3Variant).kind == "stage_input"
    block_table.register_placement(C3Variant, "stage_output")
    try:
        assert block_table.placement_of(C3Variant).kind == "stage_output"
        assert (
            block_table.placement_of(keras_chattn.CrossChannelComm).kind
            == "stage_input"
        )
    finally:
        del block_table.BLOCK_PLACEMENTS[C3Variant]


def test_register_block_reaches_builders_surgery_and_the_tuner():
    keras_chattn.register_block(
        "gain", _Gain, "stage_output", search_space={"trainable": (True,)}
    )
    try:
        assert keras_chattn.get_attention("GAIN") is _Gain
        assert spaces.search_space("gain") == {"trainable": (True,)}
        model = models.cifar_resnet(8, attention="gain")
        names = [layer.name for layer in attention_layers(model)]
        assert names == ["conv2_out_attention", "conv3_out_attention"]
        inserted = models.add_attention(models.cifar_resnet(8), "gain")
        assert [
            layer.name for layer in inserted.layers if isinstance(layer, _Gain)
        ] == names
    finally:
        keras_chattn.unregister_block("gain")
    assert "gain" not in registry.ATTENTION_LAYERS
    assert _Gain not in block_table.BLOCK_PLACEMENTS
    assert spaces.search_space("gain") == {}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "se"}, r"name 'se' is taken \(by SqueezeExcite\)"),
        ({"name": "Gain"}, r"name must be a lowercase registry name"),
        ({"name": "none"}, r"name must be a lowercase registry name"),
        ({"block": _Gain()}, r"block must be a Layer class or a callable"),
        ({"placement": "middle"}, r"placement must be one of \['branch'"),
        ({"search_space": {"x": ()}}, r"search_space must be None or a dict"),
        ({"takes_features": 1}, r"takes_features must be True or False"),
        (
            {"position_kwargs": 3},
            r"position_kwargs must be None or a callable",
        ),
    ],
)
def test_register_block_refuses_by_name(kwargs, message):
    arguments = {"name": "gain", "block": _Gain, **kwargs}
    with pytest.raises(ValueError, match=message):
        keras_chattn.register_block(**arguments)
    assert "gain" not in registry.ATTENTION_LAYERS


def test_unregister_keeps_the_built_in_blocks():
    with pytest.raises(ValueError, match=r"registered with register_block"):
        keras_chattn.unregister_block("se")
