import numpy as np
import pytest

from keras_chattn.layers import DualAttention
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    harness.LayerCase(
        DualAttention,
        {},
        (6, 7, 64),
        trainable=2 * (64 * 8 + 8) + 64 * 64 + 64 + 2,
        gradient_free=("key/bias",),
    ),
    harness.LayerCase(
        DualAttention,
        {"channel_energy": "paper", "fusion": "mean", "reduction": 4},
        (4, 5, 8),
        trainable=2 * (8 * 2 + 2) + 8 * 8 + 8 + 2,
        gradient_free=("key/bias",),
        id="DANet-paper-mean",
    ),
    # The authors' head at 4 channels on 16: four 3x3 convolutions (16 -> 4
    # twice, 4 -> 4 twice) with BatchNorm, then the modules at 4 channels.
    harness.LayerCase(
        DualAttention,
        {"channels": 4, "reduction": 1},
        (5, 6, 16),
        trainable=2 * 9 * 16 * 4
        + 2 * 9 * 4 * 4
        + 4 * 2 * 4
        + 2 * (4 * 4 + 4)
        + 4 * 4
        + 4
        + 2,
        non_trainable=4 * 2 * 4,
        output_shape=lambda shape: (*shape[:-1], 4),
        gradient_free=("key/bias",),
        id="DANet-head",
    ),
]

test_contract = harness.contract_test(CASES)


@pytest.mark.parametrize(
    "channel_energy, fusion", [("code", "sum"), ("paper", "mean")]
)
def test_matches_numpy_reference(channel_energy, fusion):
    x = np.random.default_rng(0).normal(size=(2, 4, 5, 16)).astype("float32")
    layer = DualAttention(
        reduction=4, channel_energy=channel_energy, fusion=fusion
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = {
        v.path.split("/", 1)[1]: np.asarray(v, "float64") for v in layer.weights
    }
    np.testing.assert_allclose(
        to_numpy(layer(x)),
        reference.dual_attention(
            x.astype("float64"), w, channel_energy, fusion
        ),
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize(
    "channel_energy, fusion, shape",
    [
        ("code", "sum", (2, 4, 5, 16)),
        ("paper", "mean", (2, 4, 5, 16)),
        ("code", "sum", (2, 9, 16)),
        ("code", "sum", (2, 3, 2, 4, 8)),
    ],
)
def test_head_matches_numpy_reference(channel_energy, fusion, shape):
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    layer = DualAttention(
        reduction=2, channels=4, channel_energy=channel_energy, fusion=fusion
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    expected = reference.danet_head(
        x.astype("float64"),
        reference.weights_by_path(layer),
        channel_energy,
        fusion,
    )
    assert expected.shape == (*shape[:-1], 4)
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)), expected, rtol=1e-4, atol=1e-4
    )


def test_head_works_at_its_own_width():
    # ResNet-50's last stage: the modules hold a (2048, 2048) channel
    # matrix per image; the authors' head at 512 a (512, 512) one, after
    # 3x3 convolutions whose weights it adds.
    x = np.zeros((1, 2, 2, 2048), "float32")
    modules = DualAttention()
    head = DualAttention(channels=512)
    _, maps = modules(x, return_attention=True)
    _, head_maps = head(x, return_attention=True)
    assert tuple(maps["channel"].shape) == (1, 2048, 2048)
    assert tuple(head_maps["channel"].shape) == (1, 512, 512)
    assert head.compute_output_shape((None, 7, 7, 2048)) == (None, 7, 7, 512)
    # 2 * 9 * 2048 * 512 + 2 * 9 * 512 * 512 convolution weights.
    assert head.count_params() > 2 * 9 * 2048 * 512


def test_fresh_block_is_twice_the_input():
    x = np.random.default_rng(1).normal(size=(2, 3, 3, 8)).astype("float32")
    np.testing.assert_allclose(to_numpy(DualAttention()(x)), 2 * x, rtol=1e-6)
    np.testing.assert_allclose(
        to_numpy(DualAttention(fusion="mean")(x)), x, rtol=1e-6
    )


def test_large_maps_are_refused_with_the_size():
    with pytest.raises(
        ValueError, match=r"65x65 = 4225 positions exceed max_positions=4096"
    ):
        DualAttention().build((None, 65, 65, 8))
    DualAttention(max_positions=4225).build((None, 65, 65, 8))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"channel_energy": "max"},
            r"channel_energy must be one of \['code', 'paper'\]",
        ),
        ({"fusion": "concat"}, r"fusion must be one of \['sum', 'mean'\]"),
        ({"max_positions": 0}, r"max_positions must be a positive integer"),
        ({"channels": 0}, r"channels must be a positive integer"),
        ({"channels": 10**6}, r"channels must be .* no larger than 65,536"),
        ({"channels": "512"}, r"channels must be a positive integer"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DualAttention(**kwargs)
