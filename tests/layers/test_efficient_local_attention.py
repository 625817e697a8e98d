import numpy as np
import pytest

from keras_chattn.layers import EfficientLocalAttention
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(EfficientLocalAttention, {}, (6, 8, 16), trainable=144),
    harness.LayerCase(
        EfficientLocalAttention,
        {
            "shared": False,
            "norm_groups": 1,
            "activation": "silu",
            "kernel_size": 5,
            "conv_groups": 4,
            "use_bias": True,
        },
        (5, 7, 16),
        trainable=2 * (5 * 4 * 16 + 16 + 32),
        id="ELA-timm-grouped",
    ),
]

test_contract = harness.contract_test(CASES)


def strip_gate(strip, kernel, gamma, beta, groups, activation=None):
    """sigmoid(act(GN(depthwise conv(strip)))), strip `(batch, L, C)`,
    kernel `(k, C)`."""
    k = kernel.shape[0]
    padded = np.pad(strip, ((0, 0), (k // 2, k // 2), (0, 0)))
    length = strip.shape[1]
    conv = sum(padded[:, i : i + length] * kernel[i] for i in range(k))
    grouped = conv.reshape(conv.shape[0], length, groups, -1)
    mean = grouped.mean(axis=(1, 3), keepdims=True)
    variance = grouped.var(axis=(1, 3), keepdims=True)
    normalised = ((grouped - mean) / np.sqrt(variance + 1e-5)).reshape(
        conv.shape
    )
    normalised = normalised * gamma + beta
    if activation == "silu":
        normalised = normalised * reference.sigmoid(normalised)
    return reference.sigmoid(normalised)


def test_matches_numpy_reference():
    x = parity.seeded_inputs((2, 6, 9, 32)).astype("float64")
    layer = EfficientLocalAttention(norm_groups=8)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = reference.weights_by_path(layer)
    kernel = w["conv/kernel"][:, 0, 0, :]
    gamma, beta = w["norm/gamma"], w["norm/beta"]
    gate_h = strip_gate(x.mean(axis=2), kernel, gamma, beta, 8)
    gate_w = strip_gate(x.mean(axis=1), kernel, gamma, beta, 8)
    np.testing.assert_allclose(
        harness.to_numpy(layer(x.astype("float32"))),
        x * gate_h[:, :, None] * gate_w[:, None],
        rtol=1e-4,
        atol=1e-5,
    )


def test_equals_the_authors_ela():
    from tests.layers import torch_modules

    module = parity.randomize_torch(torch_modules.ELA(64, 7, num_groups=16))
    x = parity.seeded_inputs((2, 9, 11, 64))
    layer = EfficientLocalAttention(kernel_size=7, norm_groups=16)
    layer.build(x.shape)
    weight = parity.as_numpy(module.conv.weight)  # (C, 1, k)
    layer.conv.set_weights([weight.transpose(2, 1, 0)[:, None]])
    layer.norm.set_weights(parity.batchnorm_weights(module.gn))
    parity.check(
        "ela",
        "the ELA authors' module",
        layer(x),
        parity.run_torch(module, x),
        1e-5,
    )


def test_equals_timm_efficient_local_attn():
    parity.timm_layers()
    from timm.layers.coord_attn import EfficientLocalAttn

    module = parity.randomize_torch(EfficientLocalAttn(32, kernel_size=5))
    x = parity.seeded_inputs((2, 9, 7, 32))
    layer = EfficientLocalAttention(
        kernel_size=5, shared=False, norm_groups=1, activation="silu"
    )
    layer.build(x.shape)
    for axis in ("h", "w"):
        weight = parity.as_numpy(getattr(module, f"conv_{axis}").weight)
        kernel = weight.reshape(weight.shape[0], -1).T  # (k, C)
        getattr(layer, f"conv_{axis}").set_weights([kernel[:, None, None, :]])
        getattr(layer, f"norm_{axis}").set_weights(
            parity.batchnorm_weights(getattr(module, f"norm_{axis}"))
        )
    parity.check(
        "ela (timm form)",
        "timm EfficientLocalAttn",
        layer(x),
        parity.run_torch(module, x),
        1e-5,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"kernel_size must be an odd"):
        EfficientLocalAttention(kernel_size=4)
    with pytest.raises(ValueError, match=r"norm_groups to divide the 24"):
        EfficientLocalAttention().build((None, 8, 8, 24))
    with pytest.raises(ValueError, match=r"conv_groups to divide the 16"):
        EfficientLocalAttention(conv_groups=3).build((None, 8, 8, 16))
    with pytest.raises(ValueError, match=r"expects a 4-D input"):
        EfficientLocalAttention()(np.ones((2, 8, 16), "float32"))
