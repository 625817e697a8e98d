import numpy as np
import pytest

from keras_chattn.layers import ConcurrentSqueezeExcite
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(ConcurrentSqueezeExcite, {}, (6, 7, 16), trainable=66),
    harness.LayerCase(
        ConcurrentSqueezeExcite,
        {"reduction": 4},
        (5, 5, 16),
        trainable=165,
        id="scSE-r4",
    ),
]

test_contract = harness.contract_test(CASES)


def reference_scse(x, w):
    """x * cSE(x) + x * sSE(x); `w` the layer's weights by path ending."""
    squeezed = x.mean(axis=reference.spatial(x))
    channel = reference.sigmoid(
        reference.mlp(squeezed, w["squeeze/kernel"], w["squeeze/bias"],
                      w["excite/kernel"], w["excite/bias"])
    )  # fmt: skip
    spatial = reference.sigmoid(x @ w["spatial/kernel"] + w["spatial/bias"])
    return x * reference.over_space(channel, x.ndim) + x * spatial


@pytest.mark.parametrize("shape", [(2, 5, 6, 16), (2, 9, 8), (1, 3, 4, 5, 8)])
def test_matches_numpy_reference(shape):
    x = parity.seeded_inputs(shape)
    layer = ConcurrentSqueezeExcite(reduction=4)
    layer.build(shape)
    harness.randomize_weights(layer)
    weights = reference.weights_by_path(layer)
    np.testing.assert_allclose(
        harness.to_numpy(layer(x)),
        reference_scse(x.astype("float64"), weights),
        rtol=1e-5,
        atol=1e-5,
    )


def test_equals_segmentation_models_scse():
    from tests.layers import torch_modules

    module = parity.randomize_torch(torch_modules.SCSE(32, reduction=8))
    x = parity.seeded_inputs((2, 9, 7, 32))
    layer = ConcurrentSqueezeExcite(reduction=8)
    layer.build(x.shape)
    for ours, conv in (
        (layer.squeeze, module.cSE[1]),
        (layer.excite, module.cSE[3]),
        (layer.spatial, module.sSE[0]),
    ):
        ours.set_weights(
            [parity.dense_kernel(conv.weight), parity.as_numpy(conv.bias)]
        )
    parity.check(
        "scse",
        "segmentation_models_pytorch SCSEModule",
        layer(x),
        parity.run_torch(module, x),
        1e-5,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"reduction must be a positive"):
        ConcurrentSqueezeExcite(reduction=0)
    with pytest.raises(ValueError, match=r"needs a known channel dimension"):
        ConcurrentSqueezeExcite().build((None, 8, 8, None))
