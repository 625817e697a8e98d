"""BatchNorm over pooled vectors: one layer for every block that has one.

A plain BatchNormalization over one pooled row per image decays its moving
variance by `momentum` at every single-image training step (0.9^60 =
0.0018 after 60 steps) and silently distorts every later inference.
"""

import keras
import numpy as np
import pytest

from keras_chattn import layers
from keras_chattn.layers import PooledBatchNormalization
from tests.harness import to_numpy

# Each block with a BatchNorm over pooled vectors: a factory, the input
# (without batch) and the pooled norms of a built layer.
BLOCKS = {
    "BAM": (
        lambda: layers.BAM(reduction=4),
        (6, 6, 16),
        lambda layer: [layer.channel_bn],
    ),
    "SelectiveKernel": (
        lambda: layers.SelectiveKernel(16, groups=4, min_units=4),
        (6, 6, 16),
        lambda layer: [layer.fuse_norm],
    ),
    "BridgeAttention": (
        lambda: layers.BridgeAttention(reduction=4),
        (6, 6, 16),
        lambda layer: layer.fusion_norms,
    ),
}


def statistics(norms):
    return [
        (to_numpy(n.moving_mean).copy(), to_numpy(n.moving_variance).copy())
        for n in norms
    ]


def trained_model(layer, shape):
    inputs = keras.Input(shape)
    pooled = keras.layers.GlobalAveragePooling2D()(layer(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3)(pooled))
    model.compile(
        keras.optimizers.SGD(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


@pytest.mark.parametrize("block", sorted(BLOCKS))
def test_single_image_training_keeps_the_moving_statistics(block):
    make, shape, norms_of = BLOCKS[block]
    layer = make()
    model = trained_model(layer, shape)
    norms = norms_of(layer)
    assert norms and all(isinstance(n, PooledBatchNormalization) for n in norms)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, *shape)).astype("float32")
    y = rng.integers(0, 3, size=60)
    before = statistics(norms)
    model.fit(x, y, batch_size=1, epochs=1, verbose=0, shuffle=False)
    for (mean, variance), (mean0, variance0) in zip(
        statistics(norms), before, strict=True
    ):
        np.testing.assert_array_equal(variance, variance0)
        np.testing.assert_array_equal(mean, mean0)
    # A single vector in training mode is normalised as at inference.
    for norm in norms:
        one = rng.normal(size=(1, norm.moving_mean.shape[0])).astype("float32")
        np.testing.assert_allclose(
            to_numpy(norm(one, training=True)),
            to_numpy(norm(one, training=False)),
            rtol=1e-5,
            atol=1e-6,
        )
    # Batches of several images update the statistics as usual.
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(statistics(norms)[0][1], before[0][1])


def test_several_vectors_are_keras_batch_norm():
    rng = np.random.default_rng(1)
    norm = PooledBatchNormalization(momentum=0.9, epsilon=1e-5)
    plain = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    norm.build((None, 3))
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
    vectors = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(norm(vectors)), to_numpy(plain(vectors)), rtol=1e-5
    )


def test_mixed_precision_output_in_the_compute_dtype():
    norm = PooledBatchNormalization(dtype="mixed_float16")
    norm.build((None, 4))
    outputs = norm(np.ones((1, 4), "float16"), training=True)
    assert keras.backend.standardize_dtype(outputs.dtype) == "float16"
    assert norm.moving_variance.dtype == "float32"


@pytest.mark.parametrize("shape", [(None, 4, 4), (None,)])
def test_refuses_anything_but_pooled_vectors(shape):
    with pytest.raises(ValueError, match=r"pooled \(batch, units\) vectors"):
        PooledBatchNormalization().build(shape)


def test_config_round_trip():
    norm = PooledBatchNormalization(momentum=0.8, epsilon=1e-3)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(norm)
    )
    assert type(restored) is PooledBatchNormalization
    assert restored.get_config() == norm.get_config()
