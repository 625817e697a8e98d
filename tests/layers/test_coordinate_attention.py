import numpy as np
import pytest

from keras_chattn.layers import CoordinateAttention
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def hard_swish(x):
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0


CASES = [
    # mip = max(8, 256 // 32) = 8: 256*8+8 + 2*8 + 2*(8*256+256).
    harness.LayerCase(
        CoordinateAttention,
        {},
        (6, 7, 256),
        trainable=6680,
        non_trainable=16,
        gradient_free=("conv1/bias",),
    ),
    harness.LayerCase(
        CoordinateAttention,
        {"reduction": 4, "min_units": 2},
        (5, 3, 16),
        trainable=16 * 4 + 4 + 8 + 2 * (4 * 16 + 16),
        non_trainable=8,
        gradient_free=("conv1/bias",),
        id="Coord-r4",
    ),
]

test_contract = harness.contract_test(CASES)


def coord_reference(x, weights, epsilon=1e-5):
    w1, b1, gamma, beta, mean, var, wh, bh, ww, bw = weights
    height = x.shape[1]
    joint = np.concatenate([x.mean(axis=2), x.mean(axis=1)], axis=1)
    f = hard_swish(
        reference.batchnorm(joint @ w1 + b1, gamma, beta, mean, var, epsilon)
    )
    gate_h = reference.sigmoid(f[:, :height] @ wh + bh)  # (batch, H, C)
    gate_w = reference.sigmoid(f[:, height:] @ ww + bw)  # (batch, W, C)
    return x * gate_h[:, :, None, :] * gate_w[:, None, :, :]


def test_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 24)).astype("float32")
    layer = CoordinateAttention(reduction=4, min_units=2)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    by_path = {
        w.path.split("/", 1)[1]: np.asarray(w, "float64") for w in layer.weights
    }
    weights = [
        by_path[k]
        for k in (
            "conv1/kernel",
            "conv1/bias",
            "batchnorm/gamma",
            "batchnorm/beta",
            "batchnorm/moving_mean",
            "batchnorm/moving_variance",
            "conv_h/kernel",
            "conv_h/bias",
            "conv_w/kernel",
            "conv_w/bias",
        )
    ]
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)),
        coord_reference(x.astype("float64"), weights),
        rtol=1e-5,
        atol=1e-5,
    )


def test_gates_depend_on_row_and_column():
    # A bright row raises (or lowers) that row's gate only, per channel.
    layer = CoordinateAttention(reduction=4, min_units=2)
    x = np.random.default_rng(2).uniform(size=(1, 6, 6, 8)).astype("float32")
    layer.build(x.shape)
    harness.randomize_weights(layer)
    base = to_numpy(layer(x, training=False)) / x
    x[:, 2] += 5.0
    ratio = to_numpy(layer(x, training=False)) / x
    assert not np.allclose(base[:, 2], ratio[:, 2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reduction": 0}, r"reduction must be a positive integer"),
        ({"min_units": 0}, r"min_units must be a positive integer"),
        (
            {"min_units": 10**12},
            r"min_units must be a positive integer no larger than 65,536",
        ),
        (
            {"activation": "hswish"},
            r"activation must be .* activation='hswish'",
        ),
        ({"batchnorm_momentum": 1.5}, r"batchnorm_momentum must be a number"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CoordinateAttention(**kwargs)


def test_mip_width():
    layer = CoordinateAttention()
    layer.build((None, 4, 4, 1024))
    assert layer.conv1.units == 32  # 1024 // 32
    layer = CoordinateAttention()
    layer.build((None, 4, 4, 64))
    assert layer.conv1.units == 8  # max(8, 2)
