"""Where the newest blocks go in the networks their papers built."""

import math

import pytest

import keras_chattn
from keras_chattn import models


def trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def test_the_non_local_paper_placement_is_one_call():
    # 5 blocks after every other residual block of res3 (2) and res4 (3).
    model = models.ResNet50(
        attention=[None, "nl", "nl", None],
        attention_position="post",
        attention_every=2,
        conv_bias=False,
        weights=None,
    )
    blocks = [
        layer
        for layer in model.layers
        if isinstance(layer, keras_chattn.NonLocal)
    ]
    assert [b.name for b in blocks] == [
        "conv3_block1_attention",
        "conv3_block3_attention",
        "conv4_block1_attention",
        "conv4_block3_attention",
        "conv4_block5_attention",
    ]
    # Each after the residual block's output ReLU, at C / 2 inner width.
    assert blocks[0].input.shape[-1] == 512
    assert trainable(model) == 32_915_496


@pytest.mark.parametrize(
    "block, expected",
    [
        ("fca", 28_071_976),  # SE-ResNet-50 less the MLP biases
        ("sge", 25_557_032 + 16 * 2 * 64),  # 64 groups in every block
        ("splat", 27_464_008),
        ("gct", 25_557_032 + 3 * (3 * 256 + 4 * 512 + 6 * 1024 + 3 * 2048)),
    ],
)
def test_resnet50_sizes(block, expected):
    model = models.ResNet50(attention=block, conv_bias=False, weights=None)
    assert trainable(model) == expected


def test_fcanet_gets_the_authors_grids_at_224():
    model = models.ResNet50(attention="fca", conv_bias=False, weights=None)
    grids = {
        layer.name.split("_")[0]: layer.dct_size
        for layer in model.layers
        if isinstance(layer, keras_chattn.MultiSpectralAttention)
    }
    assert grids == {
        "conv2": (56, 56),
        "conv3": (28, 28),
        "conv4": (14, 14),
        "conv5": (7, 7),
    }


def test_sge_gets_64_groups_of_at_least_4_channels_where_it_can():
    model = models.CifarResNet20(attention="sge")
    groups = {
        layer.groups
        for layer in model.layers
        if isinstance(layer, keras_chattn.SpatialGroupEnhance)
    }
    assert groups == {4, 8, 16}  # widths 16, 32, 64
    resnet50 = models.ResNet50(attention="sge", weights=None)
    assert {
        layer.groups
        for layer in resnet50.layers
        if isinstance(layer, keras_chattn.SpatialGroupEnhance)
    } == {64}
