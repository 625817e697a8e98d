import numpy as np
import pytest

from keras_chattn.layers import GatedChannelTransform
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(GatedChannelTransform, {}, (6, 7, 16), trainable=48),
    harness.LayerCase(
        GatedChannelTransform,
        {"mode": "l1"},
        (5, 5, 8),
        trainable=24,
        id="GCT-l1",
    ),
]

test_contract = harness.contract_test(CASES)


def reference_gct(x, alpha, gamma, beta, mode="l2", eps=1e-5):
    axes = reference.spatial(x)
    if mode == "l2":
        embedding = np.sqrt((x**2).sum(axis=axes) + eps) * alpha
        norm = gamma / np.sqrt((embedding**2).mean(-1, keepdims=True) + eps)
    else:
        embedding = np.abs(x).sum(axis=axes) * alpha
        norm = gamma / (np.abs(embedding).mean(-1, keepdims=True) + eps)
    gate = 1.0 + np.tanh(embedding * norm + beta)
    return x * reference.over_space(gate, x.ndim)


@pytest.mark.parametrize("mode", ["l2", "l1"])
@pytest.mark.parametrize("shape", [(2, 5, 6, 16), (2, 9, 8), (1, 3, 4, 5, 8)])
def test_matches_numpy_reference(shape, mode):
    x = parity.seeded_inputs(shape)
    layer = GatedChannelTransform(mode=mode)
    layer.build(shape)
    harness.randomize_weights(layer)
    weights = [np.asarray(w, "float64") for w in layer.get_weights()]
    np.testing.assert_allclose(
        harness.to_numpy(layer(x)),
        reference_gct(x.astype("float64"), *weights, mode=mode),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("mode", ["l2", "l1"])
def test_equals_the_authors_gct(mode):
    from tests.layers import torch_modules

    module = parity.randomize_torch(torch_modules.GCT(32, mode=mode))
    x = parity.seeded_inputs((2, 9, 7, 32))
    layer = GatedChannelTransform(mode=mode)
    layer.build(x.shape)
    layer.set_weights(
        [
            parity.as_numpy(p).ravel()
            for p in (module.alpha, module.gamma, module.beta)
        ]
    )
    parity.check(
        f"gct ({mode})",
        "z-x-yang/GCT",
        layer(x),
        parity.run_torch(module, x),
        1e-5,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"mode must be one of"):
        GatedChannelTransform(mode="l3")
    with pytest.raises(ValueError, match=r"epsilon must be a finite number"):
        GatedChannelTransform(epsilon=-1.0)
    with pytest.raises(ValueError, match=r"after_relu must be True or False"):
        GatedChannelTransform(after_relu=1)
