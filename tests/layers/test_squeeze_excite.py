import keras
import numpy as np
import pytest

from keras_chattn.layers import SqueezeExcite
from keras_chattn.models import costs
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    # The issue's anchor: C=256, r=16 -> 2*256*16 + 16 + 256 weights.
    harness.LayerCase(SqueezeExcite, {}, (6, 7, 256), trainable=8464),
    harness.LayerCase(
        SqueezeExcite,
        {"reduction": 4, "use_bias": False, "gate": "hard_sigmoid"},
        (5, 3, 32),
        trainable=2 * 32 * 8,
        id="SqueezeExcite-nobias-r4",
    ),
]

test_contract = harness.contract_test(CASES)


def test_weight_counts_of_the_issue():
    layer = SqueezeExcite(reduction=16)
    layer.build((None, 8, 8, 256))
    assert layer.count_params() == 8464
    layer = SqueezeExcite(reduction=16, use_bias=False)
    layer.build((None, 8, 8, 256))
    assert layer.count_params() == 8192


def test_costs_in_both_conventions():
    # The papers' convention: the two Dense layers; ours adds the pooling
    # and the rescaling.
    weighted = 2 * 256 * 16
    expected = (weighted, weighted + 2 * 7 * 7 * 256)
    last = SqueezeExcite()
    last.build((None, 7, 7, 256))
    assert costs.block_macs(last, (None, 7, 7, 256)) == expected
    first = SqueezeExcite(data_format="channels_first")
    first.build((None, 256, 7, 7))
    assert costs.block_macs(first, (None, 256, 7, 7)) == expected


def test_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 12)).astype("float32")
    layer = SqueezeExcite(reduction=3)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    weights = [np.array(w, "float64") for w in layer.get_weights()]
    expected = reference.channel_attention(
        x.astype("float64"), weights, ["avg"]
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6
    )


def test_known_value_of_a_constant_map():
    # All-zero weights: the gate is sigmoid(0) = 0.5 everywhere.
    layer = SqueezeExcite(reduction=2, kernel_initializer="zeros")
    x = np.full((1, 4, 4, 4), 3.0, "float32")
    np.testing.assert_allclose(to_numpy(layer(x)), np.full_like(x, 1.5))


@pytest.mark.parametrize(
    "channels, reduction, min_units, units",
    [
        (256, 16, 1, 16),
        (8, 16, 1, 1),
        (8, 16, 4, 4),
        (64, 4, 8, 16),
        (8, 8, 8, 8),
    ],
)
def test_bottleneck_width(channels, reduction, min_units, units):
    layer = SqueezeExcite(reduction=reduction, min_units=min_units)
    layer.build((None, 4, 4, channels))
    assert layer.reduce.units == units
    assert layer.expand.units == channels


def test_min_units_wider_than_channels_is_refused():
    layer = SqueezeExcite(reduction=16, min_units=16)
    with pytest.raises(ValueError, match=r"min_units=16 .* 8 channels"):
        layer.build((None, 4, 4, 8))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reduction": 0}, r"reduction must be a positive integer\. .*=0"),
        ({"reduction": -4}, r"reduction=-4"),
        ({"reduction": 2.5}, r"reduction=2\.5 of type float"),
        ({"reduction": 16.0}, r"reduction=16\.0 of type float"),
        ({"reduction": "16"}, r"reduction='16' of type str"),
        ({"reduction": True}, r"reduction=True of type bool"),
        ({"min_units": 0}, r"min_units must be a positive integer"),
        ({"use_bias": "yes"}, r"use_bias must be True or False"),
        ({"activation": "nope"}, r"activation must be .* activation='nope'"),
        ({"gate": "sigmod"}, r"gate must be .* gate='sigmod'"),
        ({"data_format": "NHWC"}, r"data_format must be one of .*'NHWC'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SqueezeExcite(**kwargs)


def test_numpy_integer_arguments_are_accepted_and_serialisable():
    layer = SqueezeExcite(reduction=np.int64(8), min_units=np.int32(2))
    assert type(layer.get_config()["reduction"]) is int


GOOD_SHAPES = [
    (None, 7, 7, 64),
    (None, None, None, 64),
    (2, 1, 1, 3),
    (None, 7, 64),
    (None, 2, 7, 7, 64),
]
BAD_SHAPES = [
    ((None, 64), r"3-D, 4-D or 5-D input .* input_shape=\(None, 64\)"),
    ((None, 1, 2, 7, 7, 64), r"3-D, 4-D or 5-D input"),
    ((None, 7, 7, None), r"known channel dimension \(axis 3"),
    ((None, 7, None), r"known channel dimension \(axis 2 of \(batch, length"),
]


@pytest.mark.parametrize("shape", GOOD_SHAPES)
def test_good_input_shapes(shape):
    layer = SqueezeExcite(reduction=2)
    layer.build(shape)
    assert tuple(layer.compute_output_shape(shape)) == shape


@pytest.mark.parametrize("shape, message", BAD_SHAPES)
def test_bad_input_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        SqueezeExcite().build(shape)


def test_channels_first_unknown_channels_names_axis_1():
    layer = SqueezeExcite(data_format="channels_first")
    with pytest.raises(ValueError, match=r"axis 1 of \(batch, channels"):
        layer.build((None, None, 8, 8))


def test_rank_is_checked_when_called():
    layer = SqueezeExcite(reduction=2)
    with pytest.raises(ValueError, match=r"3-D, 4-D or 5-D input"):
        layer(keras.Input((16,)))
    layer(keras.Input((8, 8, 16)))
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3"):
        layer(keras.Input((8, 16)))


def test_channel_count_is_checked_on_a_second_call():
    layer = SqueezeExcite(reduction=2)
    layer(keras.Input((8, 8, 16)))
    with pytest.raises(ValueError, match=r"expected axis -1 .* value 16"):
        layer(keras.Input((8, 8, 32)))
