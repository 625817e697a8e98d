"""`layer(x, return_attention=True)` returns maps that rebuild the output."""

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn import layers
from tests import harness
from tests.harness import to_numpy

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 1.0, size=(2, 6, 7, 16)).astype("float32")


def maps_of(layer, x=X, **kwargs):
    layer.build(x.shape if not isinstance(x, list) else [a.shape for a in x])
    harness.randomize_weights(layer)
    y, maps = layer(x, return_attention=True, training=False, **kwargs)
    plain = layer(x, training=False)
    np.testing.assert_allclose(
        to_numpy(y), to_numpy(plain), rtol=1e-6, atol=1e-7
    )
    return to_numpy(y), {k: to_numpy(v) for k, v in maps.items()}


def channel_gated(x, channel):
    return x * channel[:, None, None, :]


@pytest.mark.parametrize(
    "layer",
    [
        layers.SqueezeExcite(reduction=4),
        layers.ChannelAttention(reduction=4),
        layers.ECA(),
        layers.EffectiveSqueezeExcite(),
        layers.GatedChannelTransform(),
        layers.MultiSpectralAttention(reduction=4),
    ],
    ids=["se", "channel_attention", "eca", "ese", "gct", "fca"],
)
def test_channel_blocks(layer):
    y, maps = maps_of(layer)
    assert maps["channel"].shape == (2, 16)
    np.testing.assert_allclose(y, channel_gated(X, maps["channel"]), rtol=1e-5)


def test_cbam():
    y, maps = maps_of(layers.CBAM(reduction=4))
    assert maps["spatial"].shape == (2, 6, 7)
    expected = (
        X * maps["channel"][:, None, None, :] * maps["spatial"][..., None]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_cbam_channels_first_maps_are_channels_last():
    x = np.transpose(X, (0, 3, 1, 2))
    y, maps = maps_of(layers.CBAM(reduction=4, data_format="channels_first"), x)
    assert maps["spatial"].shape == (2, 6, 7)
    expected = x * maps["channel"][:, :, None, None] * maps["spatial"][:, None]
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_bridge_attention():
    first = RNG.uniform(size=(2, 6, 7, 8)).astype("float32")
    y, maps = maps_of(layers.BridgeAttention(reduction=4), [first, X])
    np.testing.assert_allclose(y, channel_gated(X, maps["channel"]), rtol=1e-5)


def test_coordinate_attention():
    y, maps = maps_of(layers.CoordinateAttention(reduction=4, min_units=2))
    assert maps["height"].shape == (2, 6, 16) and maps["width"].shape == (
        2,
        7,
        16,
    )
    expected = X * maps["height"][:, :, None, :] * maps["width"][:, None, :, :]
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_global_context():
    y, maps = maps_of(layers.GlobalContext(reduction=4, fusion="both"))
    assert maps["context"].shape == (2, 6, 7)
    np.testing.assert_allclose(maps["context"].sum(axis=(1, 2)), 1.0, rtol=1e-5)
    expected = (
        X * maps["multiply"][:, None, None, :] + maps["add"][:, None, None, :]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_selective_kernel():
    y, maps = maps_of(layers.SelectiveKernel(16, groups=4, min_units=4))
    assert maps["selection"].shape == (2, 2, 16)
    np.testing.assert_allclose(maps["selection"].sum(axis=1), 1.0, rtol=1e-5)
    expected = (maps["selection"][:, :, None, None, :] * maps["branches"]).sum(
        axis=1
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_triplet_attention():
    y, maps = maps_of(layers.TripletAttention(kernel_size=3))
    assert maps["channel_width"].shape == (2, 16, 7)
    assert maps["height_channel"].shape == (2, 6, 16)
    assert maps["height_width"].shape == (2, 6, 7)
    gates = (
        np.transpose(maps["channel_width"], (0, 2, 1))[:, None, :, :]
        + maps["height_channel"][:, :, None, :]
        + maps["height_width"][..., None]
    )
    np.testing.assert_allclose(y, X * gates / 3, rtol=1e-5)


def test_bam():
    y, maps = maps_of(layers.BAM(reduction=4))
    assert maps["attention"].shape == (2, 6, 7, 16)
    np.testing.assert_allclose(y, X * (1 + maps["attention"]), rtol=1e-5)
    joint = maps["channel"][:, None, None, :] * maps["spatial"][..., None]
    np.testing.assert_allclose(
        maps["attention"], 1 / (1 + np.exp(-joint)), rtol=1e-5
    )


def test_simam():
    y, maps = maps_of(layers.SimAM())
    np.testing.assert_allclose(y, X / (1 + np.exp(-maps["energy"])), rtol=1e-5)


def test_dual_attention():
    layer = layers.DualAttention(reduction=4)
    y, maps = maps_of(layer)
    n = 6 * 7
    assert maps["position"].shape == (2, n, n) and maps["channel"].shape == (
        2,
        16,
        16,
    )
    flat = X.reshape(2, n, 16)
    value = to_numpy(layer.value(flat))
    alpha, beta = float(np.asarray(layer.alpha)), float(np.asarray(layer.beta))
    expected = (
        alpha * maps["position"] @ value
        + beta * flat @ maps["channel"].transpose(0, 2, 1)
        + 2 * flat
    )
    np.testing.assert_allclose(
        y, expected.reshape(X.shape), rtol=1e-4, atol=1e-5
    )


def test_dual_attention_samples_rows_of_a_large_position_map():
    x = RNG.uniform(size=(1, 40, 40, 8)).astype("float32")  # 1600 positions
    _, maps = layers.DualAttention(reduction=4)(x, return_attention=True)
    assert tuple(maps["position"].shape) == (1, 1024, 1600)


def test_cross_channel_comm():
    layer = layers.CrossChannelComm(spatial_size=(3, 4), reduction=2)
    y, maps = maps_of(layer)
    affinity = maps["affinity"]
    assert affinity.shape == (2, 16, 16)
    np.testing.assert_allclose(affinity.sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        np.diagonal(affinity, axis1=1, axis2=2), 0.0, atol=1e-7
    )
    np.testing.assert_allclose(
        y, np.maximum(X + maps["decoded"], 0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("emp", ["bilinear", "gaussian", "sine"])
def test_contextual_conv(emp):
    y, maps = maps_of(layers.ContextualConv(emp=emp))
    assert maps["coefficients"].shape == (2, 16, 4)
    assert maps["excitation"].shape == (2, 6, 7, 16)
    np.testing.assert_allclose(y, X * maps["excitation"], rtol=1e-5)


def test_contextual_conv_scalar():
    y, maps = maps_of(layers.ContextualConv(variant="scalar"))
    np.testing.assert_allclose(y, X * maps["excitation"], rtol=1e-5)


def test_scse():
    y, maps = maps_of(layers.ConcurrentSqueezeExcite(reduction=4))
    assert maps["spatial"].shape == (2, 6, 7)
    expected = (
        channel_gated(X, maps["channel"]) + X * maps["spatial"][..., None]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_sge():
    y, maps = maps_of(layers.SpatialGroupEnhance(groups=4))
    assert maps["group"].shape == (2, 6, 7, 4)
    expected = X * np.repeat(maps["group"], 4, axis=-1)
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_ela():
    y, maps = maps_of(layers.EfficientLocalAttention(norm_groups=4))
    assert maps["height"].shape == (2, 6, 16)
    assert maps["width"].shape == (2, 7, 16)
    expected = X * maps["height"][:, :, None] * maps["width"][:, None]
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_ge():
    y, maps = maps_of(layers.GatherExcite(extent=2))
    assert maps["gate"].shape == (2, 6, 7, 16)
    np.testing.assert_allclose(y, X * maps["gate"], rtol=1e-5)


def test_nl():
    layer = layers.NonLocal(reduction=4)
    y, maps = maps_of(layer)
    assert maps["attention"].shape == (2, 42, 42)
    np.testing.assert_allclose(maps["attention"].sum(-1), 1.0, rtol=1e-5)
    flat = X.reshape(2, 42, 16)
    context = layer.out(maps["attention"] @ to_numpy(layer.g(flat)))
    context = to_numpy(layer.batchnorm(context, training=False))
    np.testing.assert_allclose(
        y, X + context.reshape(X.shape), rtol=1e-4, atol=1e-5
    )


def test_splat():
    layer = layers.SplitAttention(16, radix=2)
    y, maps = maps_of(layer)
    assert maps["selection"].shape == (2, 2, 16)
    np.testing.assert_allclose(maps["selection"].sum(axis=1), 1.0, rtol=1e-5)


def test_identity_start_passes_the_maps_on():
    wrapped = layers.IdentityStart(layers.SqueezeExcite(reduction=4))
    y, maps = maps_of(wrapped)
    expected = X + maps["gate"] * (maps["block_output"] - X)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert maps["channel"].shape == (2, 16)


def test_every_registry_block_returns_maps():
    tested = {
        "se",
        "cbam",
        "c3",
        "cc",
        "ba",
        "eca",
        "coord",
        "gc",
        "sk",
        "triplet",
        "bam",
        "simam",
        "danet",
        "ese",
        "gct",
        "fca",
        "scse",
        "sge",
        "ela",
        "ge",
        "nl",
        "splat",
    }
    assert tested == set(keras_chattn.ATTENTION_LAYERS)


def test_symbolic_call_returns_the_maps():
    inputs = keras.Input((8, 8, 16))
    y, maps = layers.CBAM(reduction=4)(inputs, return_attention=True)
    assert tuple(maps["spatial"].shape) == (None, 8, 8)
