import numpy as np
import pytest

from keras_chattn.layers import SelectiveKernel
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def sk_count(c_in, filters, groups, units, branches=2):
    convs = branches * (9 * c_in // groups * filters + 2 * filters)
    return convs + filters * units + 2 * units + units * branches * filters


CASES = [
    harness.LayerCase(
        SelectiveKernel,
        {"filters": 16, "groups": 4},
        (8, 8, 16),
        trainable=sk_count(16, 16, 4, 32),
        non_trainable=2 * 2 * 16 + 2 * 32,
    ),
    harness.LayerCase(
        SelectiveKernel,
        {
            "filters": 32,
            "strides": 2,
            "groups": 8,
            "min_units": 8,
            "branches": 3,
        },
        (9, 8, 16),
        trainable=sk_count(16, 32, 8, 8, branches=3),
        non_trainable=3 * 2 * 32 + 2 * 8,
        output_shape=lambda shape: (-(-shape[0] // 2), -(-shape[1] // 2), 32),
        id="SK-stride2-3branches",
    ),
]

test_contract = harness.contract_test(CASES)


def sk_reference(x, w, branches, groups, stride, epsilon=1e-5):
    outs = []
    for m in range(branches):
        y = reference.conv2d(
            x,
            w[f"branch{m}_conv/kernel"],
            dilation=m + 1,
            groups=groups,
            stride=stride,
        )
        y = reference.batchnorm(
            y,
            *(
                w[f"branch{m}_bn/{p}"]
                for p in ("gamma", "beta", "moving_mean", "moving_variance")
            ),
            epsilon,
        )
        outs.append(reference.relu(y))
    s = sum(outs).mean(axis=(1, 2))
    z = reference.relu(
        reference.batchnorm(
            s @ w["fuse/kernel"],
            *(
                w[f"fuse_bn/{p}"]
                for p in ("gamma", "beta", "moving_mean", "moving_variance")
            ),
            epsilon,
        )
    )
    logits = (z @ w["select/kernel"]).reshape(len(x), branches, -1)
    a = reference.softmax(logits, axis=1)
    return sum(a[:, None, None, m] * outs[m] for m in range(branches))


@pytest.mark.parametrize("stride, branches", [(1, 2), (2, 2), (2, 3)])
def test_matches_numpy_reference(stride, branches):
    x = np.random.default_rng(0).normal(size=(2, 7, 6, 8)).astype("float32")
    layer = SelectiveKernel(
        16, strides=stride, branches=branches, groups=4, min_units=6
    )
    layer.build(x.shape)
    harness.randomize_weights(layer)
    w = {
        v.path.split("/", 1)[1]: np.asarray(v, "float64") for v in layer.weights
    }
    expected = sk_reference(x.astype("float64"), w, branches, 4, stride)
    got = to_numpy(layer(x, training=False))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_branch_weights_sum_to_one_per_channel():
    # Zero kernels and equal BatchNorms: every branch is the same constant
    # c = relu(BN(0)) per channel, so a weighted sum with weights summing
    # to 1 returns c exactly, whatever the selection computed.
    layer = SelectiveKernel(8, groups=2, min_units=4)
    x = np.random.default_rng(1).normal(size=(2, 5, 5, 8)).astype("float32")
    layer.build(x.shape)
    harness.randomize_weights(layer)
    for conv in layer.convs:
        conv.kernel.assign(np.zeros(conv.kernel.shape, "float32"))
    for norm in layer.norms[1:]:
        norm.set_weights(layer.norms[0].get_weights())
    gamma, beta, mean, variance = layer.norms[0].get_weights()
    constant = np.maximum(beta - gamma * mean / np.sqrt(variance + 1e-5), 0)
    y = to_numpy(layer(x, training=False))
    np.testing.assert_allclose(
        y, np.broadcast_to(constant, y.shape), rtol=1e-5, atol=1e-6
    )


def test_groups_must_divide_the_channels():
    with pytest.raises(
        ValueError,
        match=r"divide the input channels.*groups=32, input channels=16",
    ):
        SelectiveKernel(32).build((None, 8, 8, 16))
    with pytest.raises(ValueError, match=r"groups must divide the filters"):
        SelectiveKernel(20, groups=8).build((None, 8, 8, 16))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"filters": 0}, r"filters must be a positive integer"),
        ({"filters": 8, "branches": 1}, r"branches must be at least 2"),
        ({"filters": 8, "strides": 0}, r"strides must be a positive integer"),
        (
            {"filters": 8, "reduction": 0},
            r"reduction must be a positive integer",
        ),
        (
            {"filters": 8, "branches": 10**12},
            r"branches must be a positive integer no larger than 64",
        ),
        (
            {"filters": 10**12},
            r"filters must be a positive integer no larger than 65,536",
        ),
        (
            {"filters": 8, "strides": 10**12},
            r"strides must be a positive integer no larger than 1,024",
        ),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SelectiveKernel(**kwargs)
