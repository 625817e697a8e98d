import numpy as np
import pytest

from keras_chattn.layers import ChannelAttention
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    harness.LayerCase(ChannelAttention, {}, (6, 7, 256), trainable=8464),
    harness.LayerCase(
        ChannelAttention,
        {"reduction": 4, "pool_types": ["avg", "max", "lse", "lp"]},
        (5, 4, 16),
        trainable=16 * 4 + 4 + 4 * 16 + 16,
        id="ChannelAttention-all-pools",
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize(
    "pool_types",
    [
        ("avg", "max"),
        ("avg",),
        ("max",),
        ("lse",),
        ("lp",),
        ("max", "lse", "avg"),
    ],
)
def test_matches_numpy_reference(pool_types):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 12)).astype("float32")
    layer = ChannelAttention(reduction=3, pool_types=pool_types)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    weights = [np.array(w, "float64") for w in layer.get_weights()]
    expected = reference.channel_attention(
        x.astype("float64"), weights, pool_types
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-6
    )


def test_one_mlp_is_shared_by_all_pools():
    layer = ChannelAttention(reduction=4, pool_types=("avg", "max", "lse"))
    layer.build((None, 8, 8, 32))
    # Two Dense layers with biases, whatever the number of pools.
    assert [tuple(w.shape) for w in layer.trainable_weights] == [
        (32, 8),
        (8,),
        (8, 32),
        (32,),
    ]


def test_lse_pool_does_not_overflow_in_float16():
    # 256x256 ones: log(65536) + 1 = 12.09 in float32; a float16
    # log-sum-exp would return inf.
    layer = ChannelAttention(
        reduction=1, pool_types=("lse",), dtype="mixed_float16"
    )
    x = np.ones((1, 256, 256, 2), "float32")
    y = to_numpy(layer(x)).astype("float32")
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize(
    "pool_types, message",
    [
        ((), r"non-empty list .* pool_types=\(\)"),
        ("avg", r"list or tuple .* pool_types='avg'"),
        (("avg", "mean"), r"\['avg', 'max', 'lse', 'lp'\]. .*'mean'"),
        (("avg", "avg"), r"must not repeat"),
        (None, r"pool_types=None"),
    ],
)
def test_bad_pool_types(pool_types, message):
    with pytest.raises(ValueError, match=message):
        ChannelAttention(pool_types=pool_types)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reduction": 0}, r"reduction must be a positive integer"),
        ({"reduction": 1.5}, r"reduction=1\.5"),
        ({"data_format": "channels_middle"}, r"data_format must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChannelAttention(**kwargs)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((None, 16), r"3-D, 4-D or 5-D input"),
        ((None, 4, 4, None), r"known channel dimension"),
    ],
)
def test_bad_input_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        ChannelAttention().build(shape)
