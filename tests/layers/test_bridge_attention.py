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


def moving_statistics(layer):
    return [
        (to_numpy(n.moving_mean).copy(), to_numpy(n.moving_variance).copy())
        for n in layer.fusion_norms
    ]


def bridge_model(layer):
    first, second = keras.Input((4, 4, 8)), keras.Input((4, 4, 8))
    y = keras.layers.GlobalAveragePooling2D()(layer([first, second]))
    model = keras.Model([first, second], keras.layers.Dense(3)(y))
    model.compile(
        keras.optimizers.SGD(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_training_at_batch_size_one_keeps_the_moving_statistics():
    # A plain BatchNorm on pooled vectors would decay its moving variance to
    # 0.9^60 = 0.0018 in 60 single-image steps and distort every later
    # inference gate; here a batch of one uses and keeps the statistics.
    rng = np.random.default_rng(0)
    layer = BridgeAttention(reduction=4)
    model = bridge_model(layer)
    x = [rng.normal(size=(60, 4, 4, 8)).astype("float32") for _ in range(2)]
    y = rng.integers(0, 3, size=60)
    before = moving_statistics(layer)
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    for (mean, variance), (mean0, variance0) in zip(
        moving_statistics(layer), before, strict=True
    ):
        np.testing.assert_array_equal(variance, variance0)
        np.testing.assert_array_equal(mean, mean0)
    one = [m[:1] for m in x]
    np.testing.assert_allclose(
        to_numpy(layer(one, training=True)),
        to_numpy(layer(one, training=False)),
        rtol=1e-6,
    )
    # Batches of several images update them as usual.
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    moved = moving_statistics(layer)[0][1]
    assert not np.allclose(moved, before[0][1])


def test_batch_norm_of_several_images_is_keras_batch_norm():
    rng = np.random.default_rng(1)
    layer = BridgeAttention(reduction=2)
    layer.build([(None, 4, 4, 6)])
    norm = layer.fusion_norms[0]
    plain = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    plain.build((None, 3))
    for _ in range(3):
        vectors = rng.normal(size=(5, 3)).astype("float32")
        np.testing.assert_allclose(
            to_numpy(norm(vectors, training=True)),
            to_numpy(plain(vectors, training=True)),
            rtol=1e-5,
            atol=1e-6,
        )
    np.testing.assert_allclose(
        to_numpy(norm.moving_variance), to_numpy(plain.moving_variance), 1e-6
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
