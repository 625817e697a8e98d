import numpy as np
import pytest

from keras_chattn.layers import EffectiveSqueezeExcite
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(EffectiveSqueezeExcite, {}, (6, 7, 16), trainable=272),
    harness.LayerCase(
        EffectiveSqueezeExcite,
        {"add_maxpool": True},
        (5, 5, 8),
        trainable=72,
        id="ESE-maxpool",
    ),
]

test_contract = harness.contract_test(CASES)


def reference_ese(x, kernel, bias, add_maxpool=False):
    squeezed = x.mean(axis=reference.spatial(x))
    if add_maxpool:
        squeezed = 0.5 * squeezed + 0.5 * x.max(axis=reference.spatial(x))
    gate = np.clip(squeezed @ kernel + bias + 3.0, 0.0, 6.0) / 6.0
    return x * reference.over_space(gate, x.ndim)


@pytest.mark.parametrize("add_maxpool", [False, True])
@pytest.mark.parametrize("shape", [(2, 5, 6, 8), (2, 9, 8), (1, 3, 4, 5, 8)])
def test_matches_numpy_reference(shape, add_maxpool):
    x = parity.seeded_inputs(shape)
    layer = EffectiveSqueezeExcite(add_maxpool=add_maxpool)
    layer.build(shape)
    harness.randomize_weights(layer)
    kernel, bias = (np.asarray(w) for w in layer.fc.get_weights())
    np.testing.assert_allclose(
        harness.to_numpy(layer(x)),
        reference_ese(x.astype("float64"), kernel, bias, add_maxpool),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("add_maxpool", [False, True])
def test_equals_timm_effective_se(add_maxpool):
    timm = parity.timm_layers()
    module = parity.randomize_torch(
        timm.EffectiveSEModule(32, add_maxpool=add_maxpool)
    )
    x = parity.seeded_inputs((2, 9, 7, 32))
    layer = EffectiveSqueezeExcite(add_maxpool=add_maxpool)
    layer.build(x.shape)
    layer.fc.set_weights(
        [parity.dense_kernel(module.fc.weight), parity.as_numpy(module.fc.bias)]
    )
    parity.check(
        "ese",
        "timm EffectiveSEModule",
        layer(x),
        parity.run_torch(module, x),
        1e-5,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"add_maxpool must be True or False"):
        EffectiveSqueezeExcite(add_maxpool="yes")
    with pytest.raises(ValueError, match=r"gate must be"):
        EffectiveSqueezeExcite(gate="no_such_activation")
    with pytest.raises(ValueError, match=r"expects a 3-D, 4-D or 5-D input"):
        EffectiveSqueezeExcite()(np.ones((2, 8), "float32"))
