import numpy as np
import pytest

from keras_chattn.layers import MultiSpectralAttention
from keras_chattn.layers.multi_spectral_attention import dct_filters
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(
        MultiSpectralAttention, {"reduction": 4}, (14, 14, 16), trainable=128
    ),
    harness.LayerCase(
        MultiSpectralAttention,
        {"frequencies": "low4", "dct_size": (7, 14)},
        (9, 20, 16),
        trainable=32,
        id="FCA-low4-resized",
    ),
]

test_contract = harness.contract_test(CASES)


def adaptive_pool(x, size):
    """PyTorch's adaptive average pooling of a channels_last map."""
    rows, columns = x.shape[1:3]
    out = np.zeros((x.shape[0], *size, x.shape[-1]))
    for i in range(size[0]):
        r0, r1 = i * rows // size[0], -(-(i + 1) * rows // size[0])
        for j in range(size[1]):
            c0, c1 = j * columns // size[1], -(-(j + 1) * columns // size[1])
            out[:, i, j] = x[:, r0:r1, c0:c1].mean(axis=(1, 2))
    return out


def test_dct_filters_are_the_orthonormal_dct_basis():
    # Every frequency's basis has unit norm; the lowest is the mean times 7.
    filters = dct_filters(32, (7, 7), "top32").reshape(49, 32)
    np.testing.assert_allclose((filters**2).sum(axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(filters[:, 0], 1 / 7, rtol=1e-6)


@pytest.mark.parametrize("shape", [(2, 14, 14, 32), (2, 9, 20, 32)])
def test_matches_numpy_reference(shape):
    x = parity.seeded_inputs(shape).astype("float64")
    layer = MultiSpectralAttention(dct_size=(7, 14), reduction=4)
    layer.build(shape)
    harness.randomize_weights(layer)
    w = reference.weights_by_path(layer)
    squeezed = (adaptive_pool(x, (7, 14)) * layer.filters).sum(axis=(1, 2))
    gate = reference.sigmoid(
        reference.relu(squeezed @ w["fc1/kernel"]) @ w["fc2/kernel"]
    )
    np.testing.assert_allclose(
        harness.to_numpy(layer(x.astype("float32"))),
        x * gate[:, None, None],
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "size, grid, method",
    [(14, 14, "top16"), (7, 7, "top16"), (20, 14, "top16"), (30, 28, "low8")],
)
def test_equals_the_authors_multi_spectral_layer(size, grid, method):
    from tests.layers import torch_modules

    module = parity.randomize_torch(
        torch_modules.FcaLayer(64, grid, grid, reduction=16, method=method)
    )
    x = parity.seeded_inputs((2, size, size + 1, 64))
    layer = MultiSpectralAttention(dct_size=grid, frequencies=method)
    layer.build(x.shape)
    layer.fc1.set_weights([parity.dense_kernel(module.fc[0].weight)])
    layer.fc2.set_weights([parity.dense_kernel(module.fc[2].weight)])
    parity.check(
        f"fca {method} grid {grid} on {size}x{size + 1}",
        "cfzd/FcaNet MultiSpectralAttentionLayer",
        layer(x),
        parity.run_torch(module, x),
        1e-5,
    )


def test_bad_arguments():
    with pytest.raises(
        ValueError, match=r"dct_size must be an int from 7 to 224"
    ):
        MultiSpectralAttention(dct_size=4)
    with pytest.raises(ValueError, match=r"frequencies must be one of"):
        MultiSpectralAttention(frequencies="top64")
    with pytest.raises(ValueError, match=r"a multiple of 16"):
        MultiSpectralAttention().build((None, 7, 7, 24))
    with pytest.raises(ValueError, match=r"expects a 4-D input"):
        MultiSpectralAttention()(np.ones((2, 8, 16), "float32"))
