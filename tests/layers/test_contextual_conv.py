import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.layers import ContextualConv
from keras_chattn.layers.contextual_conv import VARIANTS
from keras_chattn.layers.excitation_maps import EMPS
from keras_chattn.models import copy_weights_by_name
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    # C * (4n + 4) with n = 11 * 11 context values per channel.
    harness.LayerCase(ContextualConv, {}, (13, 12, 8), trainable=3904),
    harness.LayerCase(
        ContextualConv,
        {"variant": "full", "emp": "gaussian", "ch_units": (3, 2)},
        (6, 7, 4),  # smaller than 11: n = 6 * 7 = 42
        trainable=4 * (42 * 3 + 3 + 3 * 2 + 2) + (4 * 2 * 16 + 16),
        id="CC-full-gaussian",
    ),
    harness.LayerCase(
        ContextualConv,
        {"variant": "full_no_mix", "emp": "sine", "ch_units": (5, 3)},
        (12, 12, 4),
        trainable=4 * (121 * 5 + 5 + 5 * 3 + 3 + 3 * 4 + 4),
        id="CC-full-no-mix-sine",
    ),
    harness.LayerCase(
        ContextualConv,
        {"variant": "full_no_ch"},
        (5, 5, 3),
        trainable=75 * 12 + 12,
        id="CC-full-no-ch",
    ),
    harness.LayerCase(
        ContextualConv,
        {"variant": "input_independent"},
        (8, 8, 6),
        trainable=24,
        id="CC-input-independent",
    ),
    harness.LayerCase(
        ContextualConv,
        {"variant": "static_scalar", "emp": "sine"},
        (7, 5, 6),
        trainable=6,
        id="CC-static-scalar",
    ),
    harness.LayerCase(
        ContextualConv,
        {"variant": "scalar", "context_size": 4},
        (9, 9, 5),
        trainable=5 * (16 + 1),
        id="CC-scalar",
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize(
    "variant, expected",
    [("reduced", 1_511_428), ("input_independent", 1_320_196)],
)
def test_paper_table_3_sizes(variant, expected):
    model = models.small_cnn(
        "cifar100",
        base_width=32,
        attention="cc",
        attention_kwargs={"variant": variant},
    )
    assert harness.count(model.trainable_weights) == expected


def reduced_reference(x, kernel, bias, context):
    """NumPy CC-block-Reduced with the bilinear EMP (channels_last)."""
    batch, height, width, channels = x.shape
    rows = np.floor((np.arange(context[0]) + 0.5) * height / context[0])
    cols = np.floor((np.arange(context[1]) + 0.5) * width / context[1])
    small = x[:, rows.astype(int)][:, :, cols.astype(int)]
    flat = small.transpose(0, 3, 1, 2).reshape(batch, channels, -1)
    p = np.tanh(np.einsum("bcn,cnk->bck", flat, kernel) + bias) / 2 + 1
    u, v = np.arange(width), np.arange(height)
    out = np.empty_like(x)
    for b in range(batch):
        for c in range(channels):
            iw, ew, ih, eh = p[b, c]
            emp = np.outer(
                ih * (height - v) / height + eh * v / height,
                iw * (width - u) / width + ew * u / width,
            )
            out[b, :, :, c] = x[b, :, :, c] * emp
    return out, p


@pytest.mark.parametrize("shape", [(2, 15, 13, 3), (2, 6, 20, 2)])
def test_reduced_matches_numpy_reference(shape):
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    layer = ContextualConv()
    layer.build(x.shape)
    harness.randomize_weights(layer)
    context = (min(shape[1], 11), min(shape[2], 11))
    expected, p = reduced_reference(
        x.astype("float64"),
        np.array(layer.kernel, "float64"),
        np.array(layer.bias, "float64"),
        context,
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(to_numpy(layer.coefficients(x)), p, rtol=1e-5)


def test_full_variant_matches_numpy_reference():
    x = np.random.default_rng(0).normal(size=(2, 5, 4, 3)).astype("float32")
    layer = ContextualConv(variant="full", ch_units=(4, 2))
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = {v.path.split("/")[-1]: np.array(v, "float64") for v in layer.weights}
    flat = x.astype("float64").transpose(0, 3, 1, 2).reshape(2, 3, 20)
    h1 = reference.relu(
        np.einsum("bcn,cnk->bck", flat, w["ch1_kernel"]) + w["ch1_bias"]
    )
    h2 = reference.relu(
        np.einsum("bcn,cnk->bck", h1, w["ch2_kernel"]) + w["ch2_bias"]
    )
    mixed = h2.reshape(2, 6) @ w["kernel"] + w["bias"]
    p = np.tanh(mixed.reshape(2, 3, 4)) / 2 + 1
    np.testing.assert_allclose(to_numpy(layer.coefficients(x)), p, rtol=1e-5)


def test_scalar_is_a_per_channel_gate():
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
    layer = ContextualConv(variant="scalar")
    layer.build(x.shape)
    harness.randomize_weights(layer)
    scale = to_numpy(layer.coefficients(x))[..., 0]
    assert np.all((scale > 0.5) & (scale < 1.5))
    np.testing.assert_allclose(
        to_numpy(layer(x)), x * scale[:, None, None, :], rtol=1e-5
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_zero_coefficients_give_the_identity(variant):
    # P = 0 -> tanh(0) / 2 + 1 = 1 -> the bilinear map is 1 everywhere.
    layer = ContextualConv(variant=variant, kernel_initializer="zeros")
    x = np.random.default_rng(0).normal(size=(2, 12, 9, 4)).astype("float32")
    np.testing.assert_allclose(to_numpy(layer(x)), x, rtol=1e-6, atol=1e-6)


def test_static_scalar_is_a_learned_gain_per_channel():
    layer = ContextualConv(variant="static_scalar")
    layer.build((None, 6, 6, 3))
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(3, 1)]
    layer.independent.assign(np.array([[-1.0], [0.0], [2.0]]))
    gains = np.tanh([-1.0, 0.0, 2.0]) / 2 + 1
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
    np.testing.assert_allclose(to_numpy(layer(x)), x * gains, rtol=1e-6)


def relu_features(shape, seed=0):
    rng = np.random.default_rng(seed)
    return np.maximum(rng.normal(size=shape), 0).astype("float32")


def rms(x):
    return float(np.sqrt(np.mean(np.square(to_numpy(x).astype("float64")))))


@pytest.mark.parametrize("emp", sorted(EMPS))
def test_fresh_blocks_keep_the_activation_scale(emp):
    # A freshly initialised block renders a map of mean about 1, and eight
    # in a row change the RMS activation by less than 4x. Before the EMPs'
    # scales were fixed: map means 1.8 (Gaussian) and 2.2 (sine), eight
    # blocks 141x and 391x.
    keras.utils.set_random_seed(0)
    x = relu_features((8, 32, 32, 32))
    first = ContextualConv(emp=emp)
    y = first(x)
    excitation = to_numpy(EMPS[emp](first.coefficients(x), 32, 32))
    assert abs(excitation.mean() - 1.0) < 0.25
    for _ in range(7):
        y = ContextualConv(emp=emp)(y)
    assert 0.25 < rms(y) / rms(x) < 4.0


@pytest.mark.parametrize("emp", ["gaussian", "sine"])
def test_fresh_blocks_keep_a_network_at_its_scale(emp):
    # The paper's CIFAR-100 network with a block after each of its 8
    # convolutions, against the same convolution weights without blocks
    # (before the fix: 165x with Gaussian blocks, 503x with sine ones).
    def build(attention):
        keras.utils.set_random_seed(0)
        return models.small_cnn(
            "cifar100",
            base_width=8,
            include_top=False,
            attention=attention,
            attention_kwargs={"emp": emp} if attention else None,
        )

    plain, gated = build(None), build("cc")
    copy_weights_by_name(plain, gated)
    x = np.random.default_rng(0).normal(size=(16, 32, 32, 3)).astype("float32")
    ratio = rms(gated(x)) / rms(plain(x))
    assert 0.25 < ratio < 4.0


def test_input_independent_map_ignores_the_input():
    layer = ContextualConv(variant="input_independent")
    layer.build((None, 8, 8, 2))
    harness.randomize_weights(layer)
    a = np.ones((1, 8, 8, 2), "float32")
    b = 5 * np.ones((1, 8, 8, 2), "float32")
    np.testing.assert_allclose(
        to_numpy(layer(b)), 5 * to_numpy(layer(a)), rtol=1e-5
    )


def test_unknown_size_renders_at_run_time():
    layer = ContextualConv()
    model = keras.Sequential([keras.Input((None, None, 4)), layer])
    assert layer.count_params() == 4 * (4 * 121 + 4)
    for size in ((11, 11), (32, 20)):
        x = np.ones((1, *size, 4), "float32")
        assert model.predict(x, verbose=0).shape == x.shape


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "tiny"}, r"variant must be one of .*'tiny'"),
        (
            {"emp": "cubic"},
            r"emp must be one of \['bilinear', 'gaussian', 'sine'\]",
        ),
        ({"context_size": 0}, r"context_size must be a positive integer"),
        ({"ch_units": 8}, r"ch_units must be a pair"),
        ({"ch_units": (8, 0)}, r"ch_units must be a positive integer"),
        ({"activation": "nope"}, r"activation must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ContextualConv(**kwargs)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((None, 8), r"3-D, 4-D or 5-D input"),
        ((None, 8, 8, None), r"known channel"),
    ],
)
def test_bad_input_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        ContextualConv().build(shape)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    "builder",
    [
        lambda **kw: models.cifar_resnet(20, **kw),
        lambda **kw: models.small_cnn("cifar10", 4, **kw),
        lambda **kw: models.ResNet18(
            stem="cifar", input_shape=(32, 32, 3), classes=10, **kw
        ),
    ],
    ids=["cifar_resnet20", "small_cnn", "ResNet18-cifar"],
)
def test_every_variant_in_the_builders(builder, variant):
    model = builder(attention="cc", attention_kwargs={"variant": variant})
    blocks = [
        layer for layer in model.layers if isinstance(layer, ContextualConv)
    ]
    assert blocks and all(b.variant == variant for b in blocks)
