"""Where a block goes is decided once, from the builders' placement table."""

import functools

import keras
import pytest

import keras_chattn
from keras_chattn import models
from keras_chattn.models import block_table
from keras_chattn.models import placement
from tests.models.helpers import attention_layers


def _c3_reduction_4(**kwargs):
    return keras_chattn.CrossChannelComm(reduction=4, **kwargs)


def test_partial_keeps_the_blocks_placement():
    # A partial of C3 used to be read as a branch block: 9 C3 blocks in a
    # CIFAR ResNet-20 instead of 3 at the stage inputs.
    model = models.cifar_resnet(
        20, attention=functools.partial(keras_chattn.CrossChannelComm)
    )
    names = [layer.name for layer in attention_layers(model)]
    assert names == ["conv2_attention", "conv3_attention", "conv4_attention"]


def test_partial_arguments_reach_the_block():
    model = models.cifar_resnet(
        20,
        attention=functools.partial(keras_chattn.CrossChannelComm, reduction=4),
    )
    block = model.get_layer("conv3_attention")
    # The builder's position argument (working size) and the partial's own.
    assert block.reduction == 4 and block.spatial_size == (16, 16)


def test_plain_callable_is_a_branch_block_unless_registered():
    model = models.cifar_resnet(20, attention=_c3_reduction_4)
    assert len(attention_layers(model)) == 9  # not registered: "branch"
    block_table.register_placement(
        _c3_reduction_4,
        "stage_input",
        position_kwargs=block_table.c3_working_size,
    )
    try:
        model = models.cifar_resnet(20, attention=_c3_reduction_4)
    finally:
        del block_table.BLOCK_PLACEMENTS[_c3_reduction_4]
    assert len(attention_layers(model)) == 3


def test_spec_is_resolved_once_and_passed_through():
    spec = placement.attention_spec("se", {"reduction": 4}, scale="cifar")
    assert placement.attention_spec(spec) is spec
    specs = placement.resolve_attention(spec, None, 3, "cifar")
    assert specs == [spec] * 3
    y = models.apply_basic_block(
        keras.Input((8, 8, 16)), 16, attention=spec, name="b"
    )
    assert y.shape == (None, 8, 8, 16)


def test_bridge_block_takes_features():
    spec = placement.attention_spec("ba")
    assert spec.takes_features and spec.placement == "branch"
    assert not placement.attention_spec("se").takes_features


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"attention_kwargs": "reduction=8"},
            r"attention_kwargs must be a dict",
        ),
        ({"scale": "huge"}, r"scale must be one of \['cifar', 'imagenet'\]"),
    ],
)
def test_bad_spec_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        placement.attention_spec("se", **kwargs)


def test_unknown_placement_is_refused():
    with pytest.raises(ValueError, match=r"placement must be one of"):
        block_table.register_placement(
            keras_chattn.SqueezeExcite, "between_the_lines"
        )


def test_builder_refuses_string_attention_kwargs():
    with pytest.raises(ValueError, match="attention_kwargs must be a dict"):
        models.cifar_resnet(20, attention="se", attention_kwargs="reduction=8")
