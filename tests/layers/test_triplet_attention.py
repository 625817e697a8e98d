import numpy as np
import pytest

from keras_chattn.layers import TripletAttention
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference

CASES = [
    harness.LayerCase(
        TripletAttention, {}, (6, 7, 16), trainable=300, non_trainable=6
    ),
    harness.LayerCase(
        TripletAttention,
        {"kernel_size": 3, "no_spatial": True},
        (5, 4, 8),
        trainable=2 * (18 + 2),
        non_trainable=4,
        id="Triplet-k3-no-spatial",
    ),
]

test_contract = harness.contract_test(CASES)


def gate(plane, kernel, bn):
    """sigmoid(BN(conv([max; mean]))) of a (batch, a, b, n) plane stack,
    pooled over its last axis."""
    descriptor = np.stack([plane.max(axis=-1), plane.mean(axis=-1)], axis=-1)
    logits = reference.conv2d(descriptor, kernel)
    return reference.sigmoid(reference.batchnorm(logits, *bn, 1e-5))[..., 0]


def triplet_reference(x, w, no_spatial=False):
    def bn(name):
        return [
            w[f"{name}_bn/{p}"]
            for p in ("gamma", "beta", "moving_mean", "moving_variance")
        ]

    # (C, W) plane, pooled over H: the (batch, C, W, H) view.
    a_cw = gate(
        x.transpose(0, 3, 2, 1),
        w["channel_width_conv/kernel"],
        bn("channel_width"),
    )
    # (H, C) plane, pooled over W: the (batch, H, C, W) view.
    a_hc = gate(
        x.transpose(0, 1, 3, 2),
        w["height_channel_conv/kernel"],
        bn("height_channel"),
    )
    out = x * a_cw.transpose(0, 2, 1)[:, None] + x * a_hc[:, :, None, :]
    if no_spatial:
        return out / 2
    a_hw = gate(x, w["height_width_conv/kernel"], bn("height_width"))
    return (out + x * a_hw[..., None]) / 3


@pytest.mark.parametrize("no_spatial", [False, True])
def test_matches_numpy_reference(no_spatial):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 7)).astype("float32")
    layer = TripletAttention(kernel_size=3, no_spatial=no_spatial)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = {
        v.path.split("/", 1)[1]: np.asarray(v, "float64") for v in layer.weights
    }
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)),
        triplet_reference(x.astype("float64"), w, no_spatial),
        rtol=1e-5,
        atol=1e-5,
    )


def test_initialisation_of_the_authors_resnet():
    layer = TripletAttention()
    layer.build((None, 4, 4, 8))
    gammas = {
        name: float(np.asarray(getattr(layer, f"{name}_bn").gamma)[0])
        for name in ("channel_width", "height_channel", "height_width")
    }
    assert gammas == {
        "channel_width": 1.0,
        "height_channel": 1.0,
        "height_width": 0.0,
    }


def test_weights_do_not_depend_on_the_size():
    small, large = TripletAttention(), TripletAttention()
    small.build((None, 4, 4, 8))
    large.build((None, 64, 32, 512))
    assert small.count_params() == large.count_params() == 306


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kernel_size": 6}, r"kernel_size must be an odd positive integer"),
        ({"no_spatial": 1}, r"no_spatial must be True or False"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TripletAttention(**kwargs)
