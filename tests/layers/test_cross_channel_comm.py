import keras
import numpy as np
import pytest

from keras_chattn.layers import CrossChannelComm
from keras_chattn.layers.maps import resize_nearest
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def c3_params(area, reduction):
    units = area // reduction
    return 2 * (2 * area * units + units + area)


CASES = [
    # Works at 16x16 whatever the input size: A = 256, r = 8 -> 33,344.
    harness.LayerCase(
        CrossChannelComm,
        {"spatial_size": 16},
        (24, 20, 8),
        trainable=33_344,
        id="C3-16x16",
    ),
    # At the input's own (static) size: A = 6 * 5; the reference code's
    # options (self-messages, softmax groups: here 2 groups of 2 channels).
    harness.LayerCase(
        CrossChannelComm,
        {"reduction": 5, "include_self": True, "softmax_group_size": 2},
        (6, 5, 4),
        trainable=c3_params(30, 5),
        dynamic_spatial=False,
        id="C3-own-size-reference-options",
    ),
    harness.LayerCase(
        CrossChannelComm,
        {"spatial_size": (4, 6), "communication": False},
        (8, 12, 3),
        trainable=c3_params(24, 8),
        id="C3-no-communication",
    ),
    harness.LayerCase(
        CrossChannelComm,
        {"spatial_size": (4, 4), "encoder_decoder": False},
        (8, 8, 5),
        trainable=0,
        id="C3-no-encoder-decoder",
    ),
]

test_contract = harness.contract_test(CASES)


def test_size_of_the_issue():
    layer = CrossChannelComm(spatial_size=(16, 16), reduction=8)
    layer.build((None, 32, 32, 64))
    assert layer.count_params() == 33_344
    # The weights do not depend on the channel count.
    other = CrossChannelComm(spatial_size=(16, 16), reduction=8)
    other.build((None, 32, 32, 512))
    assert other.count_params() == 33_344


@pytest.mark.parametrize("include_self", [False, True])
@pytest.mark.parametrize(
    "communication, encoder_decoder",
    [(True, True), (False, True), (True, False)],
)
def test_matches_numpy_reference(include_self, communication, encoder_decoder):
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 6)).astype("float32")
    layer = CrossChannelComm(
        reduction=4,
        include_self=include_self,
        communication=communication,
        encoder_decoder=encoder_decoder,
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    weights = [np.array(w, "float64") for w in layer.get_weights()]
    dense = list(zip(weights[0::2], weights[1::2], strict=True)) or None
    expected = reference.cross_channel_comm(
        x.astype("float64"), dense, include_self, communication, encoder_decoder
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("include_self", [False, True])
@pytest.mark.parametrize(
    "channels, group_size, groups", [(12, 4, 3), (10, 4, 2), (4, 4, 1)]
)
def test_softmax_groups_match_numpy_reference(
    channels, group_size, groups, include_self
):
    # The reference code's nblocks_channel: C // m groups of C // (C // m).
    x = np.random.default_rng(0).normal(size=(2, 4, 4, channels))
    x = x.astype("float32")
    layer = CrossChannelComm(
        reduction=4, include_self=include_self, softmax_group_size=group_size
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    assert layer.channel_groups == groups
    weights = [np.array(w, "float64") for w in layer.get_weights()]
    dense = list(zip(weights[0::2], weights[1::2], strict=True))
    expected = reference.cross_channel_comm(
        x.astype("float64"), dense, include_self, groups=groups
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-4, atol=1e-5
    )
    if groups > 1:  # the groups change the result
        everyone = reference.cross_channel_comm(
            x.astype("float64"), dense, include_self
        )
        assert not np.allclose(expected, everyone, atol=1e-3)


def test_softmax_groups_need_divisible_known_channels():
    with pytest.raises(ValueError, match=r"divisible by 2.*\(None, 4, 4, 9\)"):
        CrossChannelComm(softmax_group_size=4).build((None, 4, 4, 9))
    with pytest.raises(
        ValueError,
        match=r"known channel dimension .* to form softmax_group_size=4 groups",
    ):
        CrossChannelComm(softmax_group_size=4).build((None, 4, 4, None))


def nearest_indices(out_size, in_size):
    return np.floor((np.arange(out_size) + 0.5) * in_size / out_size).astype(
        int
    )


@pytest.mark.parametrize("size", [(2, 3), (4, 6), (7, 5)])
def test_resize_nearest_matches_half_pixel_formula(size):
    x = np.random.default_rng(0).normal(size=(2, 4, 6, 3)).astype("float32")
    rows, cols = nearest_indices(size[0], 4), nearest_indices(size[1], 6)
    expected = x[:, rows][:, :, cols]
    resized = resize_nearest(x, size, (1, 2))
    np.testing.assert_array_equal(to_numpy(resized), expected)


def test_resizes_in_and_out():
    # Identity bottlenecks and no messages: decoded = up(down(x)).
    layer = CrossChannelComm(
        spatial_size=(2, 2),
        reduction=1,
        communication=False,
        output_activation=None,
        activation=None,
    )
    x = np.arange(32, dtype="float32").reshape(1, 4, 4, 2)
    layer.build(x.shape)
    eye = np.eye(4, dtype="float32")
    layer.set_weights([eye, np.zeros(4)] * 4)
    down = x[:, [1, 3]][:, :, [1, 3]]
    back = down[:, [0, 0, 1, 1]][:, :, [0, 0, 1, 1]]
    np.testing.assert_allclose(to_numpy(layer(x)), x + back)


def test_single_channel_is_finite_and_hears_nothing():
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 1)).astype("float32")
    layer = CrossChannelComm(reduction=2)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    y = to_numpy(layer(x))
    assert np.all(np.isfinite(y))
    # The message is zero, so the decoder sees zeros: relu(x + dec(0)).
    k3, b3, k4, b4 = layer.get_weights()[4:]
    decoded = np.maximum(b3, 0) @ k4 + b4
    expected = np.maximum(x + decoded.reshape(1, 4, 4, 1), 0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_unknown_size_with_spatial_size_set():
    layer = CrossChannelComm(spatial_size=8)
    model = keras.Sequential([keras.Input((None, None, 3)), layer])
    for size in (8, 16, 20):
        x = np.ones((1, size, size, 3), "float32")
        assert model.predict(x, verbose=0).shape == x.shape


def test_unknown_size_without_spatial_size_says_what_to_do():
    with pytest.raises(ValueError, match=r"Pass spatial_size=\(h, w\)"):
        CrossChannelComm()(keras.Input((None, None, 8)))


def test_unknown_channel_count_is_fine():
    layer = CrossChannelComm(spatial_size=4)
    model = keras.Sequential([keras.Input((8, 8, None)), layer])
    for channels in (1, 3):
        x = np.ones((2, 8, 8, channels), "float32")
        assert model.predict(x, verbose=0).shape == x.shape


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"spatial_size": 0}, r"spatial_size must be None, a positive int"),
        ({"spatial_size": (4, 4, 4, 4)}, r"spatial_size=\(4, 4, 4, 4\)"),
        ({"spatial_size": "16"}, r"spatial_size='16'"),
        ({"reduction": 0}, r"reduction must be a positive integer"),
        ({"include_self": 1}, r"include_self must be True or False"),
        (
            {"softmax_group_size": 0},
            r"softmax_group_size must be a positive integer",
        ),
        (
            {"communication": False, "encoder_decoder": False},
            r"keep at least one of them True",
        ),
        ({"output_activation": "nope"}, r"output_activation must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CrossChannelComm(**kwargs)


def test_bottleneck_keeps_one_unit_on_tiny_maps():
    layer = CrossChannelComm(spatial_size=2)  # A = 4 < reduction = 8
    layer.build((None, 8, 8, 3))
    assert layer.encoder_in.units == 1
    assert layer.count_params() == c3_params(4, 4)


@pytest.mark.parametrize("shape", [(None, 8), (None, 2, 2, 8, 8, 3)])
def test_bad_input_ranks(shape):
    with pytest.raises(ValueError, match=r"3-D, 4-D or 5-D input"):
        CrossChannelComm(spatial_size=4).build(shape)


def test_own_size_is_fixed_at_build():
    layer = CrossChannelComm(reduction=4)
    layer.build((None, 4, 4, 3))
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    y = to_numpy(layer(x))  # resized to the built 4x4 and back
    assert y.shape == x.shape and np.all(np.isfinite(y))
    assert layer.count_params() == c3_params(16, 4)


@pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="PyTorch differentiates the direct form itself: nothing to compare",
)
@pytest.mark.parametrize("include_self", [False, True])
def test_written_out_gradient_equals_automatic_differentiation(include_self):
    # On TensorFlow and JAX the affinity's gradient is written out
    # (`_kernels.neighbour_affinity`); the whole layer's gradients must
    # equal those of automatic differentiation through the same maths
    # (its direct form, under `direct_forms()`).
    from keras_chattn.layers import _kernels

    x = np.random.default_rng(3).normal(size=(2, 4, 4, 6)).astype("float32")
    x *= np.linspace(0.5, 3.0, 6, dtype="float32")  # channels apart
    layer = CrossChannelComm(reduction=2, include_self=include_self)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    written = harness.gradients(layer, [x])
    with _kernels.direct_forms():
        automatic = harness.gradients(layer, [x])
    assert len(written) == len(automatic) == 1 + len(layer.trainable_weights)
    for got, expected in zip(written, automatic, strict=True):
        scale = max(np.abs(expected).max(), 1e-6)
        np.testing.assert_allclose(got / scale, expected / scale, atol=2e-5)
