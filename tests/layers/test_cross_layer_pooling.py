import keras
import numpy as np
import pytest

from keras_chattn.layers import CrossLayerPooling
from tests import harness
from tests.harness import to_numpy

CASES = [
    harness.LayerCase(
        CrossLayerPooling,
        {},
        [(8, 8, 4), (8, 8, 6), (8, 8, 10)],
        trainable=20 * 10 + 10,
        output_shape=(10,),
        id="CrossLayerPooling-default-units",
    ),
    harness.LayerCase(
        CrossLayerPooling,
        {"units": 7, "use_bias": False},
        [(6, 5, 3), (6, 5, 5)],
        trainable=8 * 7,
        output_shape=(7,),
        id="CrossLayerPooling-units",
    ),
]

test_contract = harness.contract_test(CASES)


def test_matches_numpy_and_takes_maps_of_different_sizes():
    rng = np.random.default_rng(0)
    stages = [
        rng.normal(size=(2, 16, 16, 4)).astype("float32"),
        rng.normal(size=(2, 8, 8, 8)).astype("float32"),
        rng.normal(size=(2, 4, 4, 16)).astype("float32"),
    ]
    layer = CrossLayerPooling(units=5)
    layer.build([s.shape for s in stages])
    harness.randomize_weights(layer)
    pooled = np.concatenate([s.mean(axis=(1, 2)) for s in stages], axis=-1)
    kernel, bias = (np.array(w) for w in layer.linear.weights)
    np.testing.assert_allclose(
        to_numpy(layer(stages)), pooled @ kernel + bias, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([np.zeros((2, 8, 8))], r"4-D with a known channel count"),
    ],
)
def test_bad_inputs(inputs, message):
    with pytest.raises(ValueError, match=message):
        CrossLayerPooling()([x.astype("float32") for x in inputs])


def test_single_tensor_is_refused():
    with pytest.raises(ValueError, match=r"non-empty list of 4-D maps"):
        CrossLayerPooling()(keras.Input((8, 8, 3)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, r"units must be a positive integer"),
        ({"use_bias": 1}, r"use_bias must be True or False"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CrossLayerPooling(**kwargs)
