import keras
import numpy as np
import pytest

from keras_chattn.layers import BridgeAttention
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    # units = 64 // 16 = 4: fuse 16*4, 16*4, 64*4 (+ BN 2*4 each), expand 4*64.
    harness.LayerCase(
        BridgeAttention,
        {},
        [(6, 7, 16), (6, 7, 16), (6, 7, 64)],
        trainable=16 * 4 * 2 + 64 * 4 + 3 * 8 + 4 * 64,
        non_trainable=3 * 8,
        id="BA-bottleneck",
    ),
    harness.LayerCase(
        BridgeAttention,
        {"reduction": 8},
        (5, 5, 32),
        trainable=32 * 4 + 8 + 4 * 32,
        non_trainable=8,
        id="BA-single",
    ),
    harness.LayerCase(
        BridgeAttention,
        {"reduction": 4, "use_bias": True, "gate": "hard_sigmoid"},
        [(4, 6, 8), (4, 6, 12)],
        trainable=8 * 3 + 12 * 3 + 2 * 6 + 3 * 12 + 12,
        non_trainable=2 * 6,
        id="BA-two-bias",
    ),
]

test_contract = harness.contract_test(CASES)


def test_matches_numpy_reference():
    rng = np.random.default_rng(0)
    maps = [rng.normal(size=(3, 5, 4, c)).astype("float32") for c in (8, 8, 32)]
    layer = BridgeAttention(reduction=8)
    layer.build([m.shape for m in maps])
    harness.randomize_weights(layer)
    fused = 0
    for m, dense, norm in zip(
        maps, layer.fusions, layer.fusion_norms, strict=True
    ):
        pooled = m.astype("float64").mean(axis=(1, 2))
        z = pooled @ np.array(dense.kernel, "float64")
        gamma, beta, mean, var = (
            np.array(w, "float64")
            for w in (
                norm.gamma,
                norm.beta,
                norm.moving_mean,
                norm.moving_variance,
            )
        )
        fused = fused + (z - mean) / np.sqrt(var + 1e-5) * gamma + beta
    weights = reference.sigmoid(
        reference.relu(fused) @ np.array(layer.expand.kernel, "float64")
    )
    expected = maps[-1] * weights[:, None, None, :]
    np.testing.assert_allclose(
        to_numpy(layer(maps, training=False)), expected, rtol=1e-5, atol=1e-6
    )


def test_size_of_a_resnet50_bottleneck_block():
    # f = 64: F1, F2 with 64 channels, F3 with 256; 16 fusion units.
    layer = BridgeAttention()
    layer.build([(None, 56, 56, 64), (None, 56, 56, 64), (None, 56, 56, 256)])
    assert harness.count(layer.trainable_weights) == 10 * 64 * 16 + 6 * 16
    assert harness.count(layer.non_trainable_weights) == 6 * 16


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([], r"non-empty list of feature maps"),
        (
            [np.zeros((2, 8, 8, 4)), np.zeros((2, 4, 4, 4))],
            r"share their spatial size .* \(2, 4, 4, 4\)",
        ),
        (
            [np.zeros((2, 8, 8, 4)), np.zeros((3, 8, 8, 4))],
            r"share their batch size",
        ),
        ([np.zeros((2, 8))], r"3-D, 4-D or 5-D input"),
    ],
)
def test_bad_inputs(inputs, message):
    inputs = [x.astype("float32") for x in inputs]
    with pytest.raises(ValueError, match=message):
        BridgeAttention()(inputs)


def test_unknown_channels_are_refused():
    with pytest.raises(ValueError, match=r"known channel dimension"):
        BridgeAttention()([keras.Input((8, 8, None)), keras.Input((8, 8, 4))])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reduction": 0}, r"reduction must be a positive integer"),
        ({"use_bias": "no"}, r"use_bias must be True or False"),
        ({"gate": "nope"}, r"gate must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BridgeAttention(**kwargs)
