import numpy as np
import pytest

from keras_chattn.layers import GlobalContext
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def transform_count(channels, units):
    return channels * units + units + 2 * units + units * channels + channels


CASES = [
    harness.LayerCase(
        GlobalContext,
        {},
        (6, 7, 256),
        trainable=257 + transform_count(256, 16),
        gradient_free=("mask/bias",),
    ),
    harness.LayerCase(
        GlobalContext,
        {"fusion": "both", "reduction": 4},
        (5, 3, 16),
        trainable=17 + 2 * transform_count(16, 4),
        gradient_free=("mask/bias",),
        id="GC-both",
    ),
    harness.LayerCase(
        GlobalContext,
        {"pooling": "avg", "fusion": "multiply"},
        (4, 4, 32),
        trainable=transform_count(32, 4),
        id="GC-avg-multiply",
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize("fusion", ["add", "multiply", "both"])
def test_matches_numpy_reference(fusion):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 24)).astype("float32")
    layer = GlobalContext(reduction=4, fusion=fusion)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = reference.weights_by_path(layer)
    expected = reference.global_context(
        x.astype("float64"),
        (w["mask/kernel"], w["mask/bias"]),
        reference.gc_transforms(layer, w),
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-5
    )


def test_bottleneck_keeps_its_layer_norm_useful():
    layer = GlobalContext()  # 16 // 16 = 1 unit would make LN a constant
    layer.build((None, 4, 4, 16))
    assert layer.bottleneck(16) == 4 and layer.bottleneck(256) == 16


def test_fresh_block_is_the_identity_or_halves():
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 32)).astype("float32")
    np.testing.assert_allclose(to_numpy(GlobalContext()(x)), x, atol=1e-6)
    halved = to_numpy(GlobalContext(fusion="multiply")(x))
    np.testing.assert_allclose(halved, x / 2, atol=1e-6)


def test_context_weights_sum_to_one():
    # A constant map: every position gets 1 / HW, the context is the value.
    layer = GlobalContext(reduction=4)
    x = np.full((1, 3, 5, 8), 2.0, "float32")
    layer.build(x.shape)
    harness.randomize_weights(layer)
    np.testing.assert_allclose(
        to_numpy(layer.context(x)), np.full((1, 8), 2.0), rtol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"fusion": "concat"},
            r"fusion must be one of \['add', 'multiply', 'both'\]",
        ),
        ({"pooling": "max"}, r"pooling must be one of \['attention', 'avg'\]"),
        (
            {"min_units": 10**12},
            r"min_units must be a positive integer no larger than 65,536",
        ),
        ({"reduction": 0}, r"reduction must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GlobalContext(**kwargs)
