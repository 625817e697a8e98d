import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.layers import IdentityStart
from tests import harness
from tests.harness import to_numpy


def serialized(layer):
    """The layer's config without its dtype and data format: built under
    each policy and format the harness sets, as a block made there would."""
    config = keras.saving.serialize_keras_object(layer)
    config["config"].pop("dtype")
    config["config"].pop("data_format")
    return config


CASES = [
    harness.LayerCase(
        IdentityStart,
        {"block": serialized(keras_chattn.SqueezeExcite(reduction=4))},
        (6, 7, 16),
        trainable=2 * 16 * 4 + 4 + 16 + 1,
    ),
    harness.LayerCase(
        IdentityStart,
        {
            "block": serialized(keras_chattn.CBAM(reduction=4)),
            "gate": "channel",
        },
        (5, 4, 16),
        trainable=2 * 16 * 4 + 4 + 16 + 98 + 2 + 16,
        non_trainable=2,
        id="IdentityStart-CBAM-channel",
    ),
]

test_contract = harness.contract_test(CASES)


def test_starts_as_the_identity_then_mixes():
    wrapped = IdentityStart(keras_chattn.SqueezeExcite(reduction=2))
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32")
    np.testing.assert_array_equal(to_numpy(wrapped(x)), x)
    wrapped.g.assign(1.0)
    np.testing.assert_allclose(
        to_numpy(wrapped(x)), to_numpy(wrapped.block(x)), rtol=1e-6
    )
    wrapped.g.assign(0.25)
    expected = x + 0.25 * (to_numpy(wrapped.block(x)) - x)
    np.testing.assert_allclose(
        to_numpy(wrapped(x)), expected, rtol=1e-5, atol=1e-6
    )


def test_channel_gate_in_channels_first():
    block = keras_chattn.SqueezeExcite(
        reduction=2, data_format="channels_first"
    )
    wrapped = IdentityStart(block, gate="channel")
    x = np.random.default_rng(1).normal(size=(2, 8, 4, 4)).astype("float32")
    wrapped(x)
    assert tuple(wrapped.g.shape) == (8,)
    gate = np.zeros(8, "float32")
    gate[3] = 1.0
    wrapped.g.assign(gate)
    y = to_numpy(wrapped(x))
    np.testing.assert_array_equal(
        np.delete(y, 3, axis=1), np.delete(x, 3, axis=1)
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"block": "se"}, r"block must be a keras.layers.Layer"),
        (
            {"block": keras_chattn.ECA(), "gate": "vector"},
            r"gate must be one of \['scalar', 'channel'\]",
        ),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        IdentityStart(**kwargs)
