import numpy as np
import pytest

from keras_chattn.layers import SpatialGroupEnhance
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(
        SpatialGroupEnhance, {"groups": 4}, (6, 7, 16), trainable=8
    ),
    harness.LayerCase(
        SpatialGroupEnhance,
        {"groups": 2},
        (1, 1, 8),
        trainable=4,
        gradient_free=("weight",),  # one position: the normalised map is 0
        id="SGE-1x1",
    ),
]

test_contract = harness.contract_test(CASES)


def reference_sge(x, groups, weight, bias):
    """The paper's Eq. 1-4 per group, with torch.std's n - 1."""
    axes = reference.spatial(x)
    grouped = x.reshape(*x.shape[:-1], groups, -1)
    similarity = (grouped * grouped.mean(axis=axes, keepdims=True)).sum(-1)
    centred = similarity - similarity.mean(axis=axes, keepdims=True)
    n = max(int(np.prod([x.shape[a] for a in axes])) - 1, 1)
    std = np.sqrt((centred**2).sum(axis=axes, keepdims=True) / n)
    gate = reference.sigmoid(centred / (std + 1e-5) * weight + bias)
    return (grouped * gate[..., None]).reshape(x.shape)


@pytest.mark.parametrize("shape", [(2, 5, 6, 16), (2, 9, 8), (1, 3, 4, 5, 8)])
def test_matches_numpy_reference(shape):
    x = parity.seeded_inputs(shape)
    layer = SpatialGroupEnhance(groups=4)
    layer.build(shape)
    harness.randomize_weights(layer)
    weight, bias = (np.asarray(w, "float64") for w in layer.get_weights())
    np.testing.assert_allclose(
        harness.to_numpy(layer(x)),
        reference_sge(x.astype("float64"), 4, weight, bias),
        rtol=1e-4,
        atol=1e-5,
    )


def test_equals_the_authors_spatial_group_enhance():
    from tests.layers import torch_modules

    module = parity.randomize_torch(torch_modules.SGE(groups=8))
    x = parity.seeded_inputs((2, 9, 7, 64))
    layer = SpatialGroupEnhance(groups=8)
    layer.build(x.shape)
    layer.set_weights(
        [
            parity.as_numpy(module.weight).ravel(),
            parity.as_numpy(module.bias).ravel(),
        ]
    )
    parity.check(
        "sge",
        "PytorchInsight SpatialGroupEnhance",
        layer(x),
        parity.run_torch(module, x),
        1e-4,
    )


def test_starts_as_a_constant_gate():
    x = parity.seeded_inputs((2, 5, 5, 8))
    y = harness.to_numpy(SpatialGroupEnhance(groups=2)(x))
    np.testing.assert_allclose(y, x / (1 + np.exp(-1.0)), rtol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"groups must be a positive"):
        SpatialGroupEnhance(groups=0)
    with pytest.raises(ValueError, match=r"multiple of groups=16.*24 channels"):
        SpatialGroupEnhance().build((None, 8, 8, 24))
