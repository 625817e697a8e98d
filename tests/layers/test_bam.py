import numpy as np
import pytest

from keras_chattn.layers import BAM
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def bam_count(c, units, convs=2):
    channel = c * units + units + 2 * units + units * c + c
    spatial = c * units + units + 2 * units
    spatial += convs * (9 * units * units + units + 2 * units) + units + 1
    return channel + spatial


# Biases right before a BatchNorm, which subtracts them (the authors' code
# has them; they never learn).
BEFORE_BATCHNORM = (
    "channel_fc/bias",
    "spatial_reduce/bias",
    "spatial_dilated0/bias",
)

CASES = [
    harness.LayerCase(
        BAM,
        {},
        (6, 7, 64),
        trainable=bam_count(64, 4),
        non_trainable=2 * 4 * 4,
        gradient_free=BEFORE_BATCHNORM + ("spatial_dilated1/bias",),
    ),
    harness.LayerCase(
        BAM,
        {"combine": "add", "reduction": 4, "dilation": 2, "dilated_convs": 1},
        (5, 6, 16),
        trainable=bam_count(16, 4, convs=1),
        non_trainable=2 * 4 * 3,
        gradient_free=BEFORE_BATCHNORM,
        id="BAM-add-d2",
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize("combine", ["multiply", "add"])
def test_matches_numpy_reference(combine):
    x = np.random.default_rng(0).normal(size=(2, 9, 10, 16)).astype("float32")
    layer = BAM(reduction=4, combine=combine)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = {
        v.path.split("/", 1)[1]: np.asarray(v, "float64") for v in layer.weights
    }
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)),
        reference.bam(x.astype("float64"), w, combine, 4, 2),
        rtol=1e-5,
        atol=1e-5,
    )


def test_output_lies_between_once_and_twice_the_input():
    layer = BAM(reduction=4)
    x = (
        np.random.default_rng(3)
        .uniform(0.1, 1, (2, 8, 8, 16))
        .astype("float32")
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    ratio = to_numpy(layer(x, training=False)) / x
    assert np.all(ratio > 1) and np.all(ratio < 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"combine": "sum"}, r"combine must be one of \['multiply', 'add'\]"),
        ({"dilation": 0}, r"dilation must be a positive integer"),
        ({"dilated_convs": 0}, r"dilated_convs must be a positive integer"),
        (
            {"dilated_convs": 10**12},
            r"dilated_convs must be a positive integer no larger than 64",
        ),
        (
            {"dilation": 10**12},
            r"dilation must be a positive integer no larger than 1,024",
        ),
        ({"batchnorm_epsilon": float("inf")}, r"batchnorm_epsilon must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BAM(**kwargs)
