import numpy as np
import pytest

from keras_chattn.layers import NonLocal
from tests import harness
from tests.layers import parity
from tests.layers import reference

CASES = [
    harness.LayerCase(
        NonLocal,
        {},
        (6, 7, 16),
        trainable=584,
        non_trainable=32,
        gradient_free=("phi/bias", "g/bias", "out/bias"),
    ),
    harness.LayerCase(
        NonLocal,
        {"sub_sample": True, "norm": False, "scale": "none", "reduction": 4},
        (6, 8, 16),
        trainable=3 * (16 * 4 + 4) + 4 * 16 + 16,
        gradient_free=("phi/bias",),
        id="NL-subsampled-no-norm",
    ),
]

test_contract = harness.contract_test(CASES)


def reference_non_local(x, w, scale, sub_sample=False, eps=1e-5):
    """The paper's Eq. 1-3 (embedded Gaussian) with its zero-init BN."""
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    source = x
    if sub_sample:
        b, h, wd, c = x.shape
        source = (
            x[:, : h // 2 * 2, : wd // 2 * 2]
            .reshape(b, h // 2, 2, wd // 2, 2, c)
            .max(axis=(2, 4))
        )
    source = source.reshape(x.shape[0], -1, x.shape[-1])
    theta = flat @ w["theta/kernel"] + w["theta/bias"]
    phi = source @ w["phi/kernel"] + w["phi/bias"]
    g = source @ w["g/kernel"] + w["g/bias"]
    attention = reference.softmax(theta @ phi.transpose(0, 2, 1) * scale)
    z = (attention @ g) @ w["out/kernel"] + w["out/bias"]
    if "batchnorm/gamma" in w:
        z = reference.batchnorm(
            z, w["batchnorm/gamma"], w["batchnorm/beta"],
            w["batchnorm/moving_mean"], w["batchnorm/moving_variance"], eps,
        )  # fmt: skip
    return x + z.reshape(x.shape)


@pytest.mark.parametrize(
    "kwargs, factor",
    [
        ({}, 8**-0.5),
        ({"scale": "input", "sub_sample": True}, 16**-0.5),
        ({"scale": "none", "norm": False}, 1.0),
    ],
    ids=str,
)
def test_matches_numpy_reference(kwargs, factor):
    x = parity.seeded_inputs((2, 6, 7, 16)).astype("float64")
    layer = NonLocal(**kwargs)
    layer.build(x.shape)
    harness.randomize_weights(layer)
    np.testing.assert_allclose(
        harness.to_numpy(layer(x.astype("float32"), training=False)),
        reference_non_local(
            x,
            reference.weights_by_path(layer),
            factor,
            kwargs.get("sub_sample", False),
        ),  # fmt: skip
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "shape", [(2, 12, 64), (2, 9, 7, 64), (1, 3, 4, 5, 64)]
)
def test_equals_timm_non_local_attn(shape):
    timm = parity.timm_layers()
    module = parity.randomize_torch(timm.NonLocalAttn(64, rd_ratio=1 / 8))
    x = parity.seeded_inputs(shape)
    layer = NonLocal(reduction=8, scale="input")
    layer.build(x.shape)
    for ours, conv in (
        (layer.theta, module.t),
        (layer.phi, module.p),
        (layer.g, module.g),
        (layer.out, module.z),
    ):
        ours.set_weights(
            [parity.dense_kernel(conv.weight), parity.as_numpy(conv.bias)]
        )
    layer.batchnorm.set_weights(parity.batchnorm_weights(module.norm))
    if len(shape) != 4:
        # timm's module is 2-D: a sequence runs as an (L, 1) image, a
        # volume as a (D * H, W) one (the block only sees positions).
        image = x.reshape(shape[0], -1, shape[-2], shape[-1])
        theirs = parity.run_torch(module, image).reshape(shape)
    else:
        theirs = parity.run_torch(module, x)
    parity.check(
        f"nl {len(shape) - 2}-D", "timm NonLocalAttn", layer(x), theirs, 1e-5
    )


def test_starts_as_the_identity_either_way():
    x = parity.seeded_inputs((2, 5, 5, 8))
    for norm in (True, False):
        y = harness.to_numpy(NonLocal(norm=norm)(x, training=True))
        np.testing.assert_allclose(y, x, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"scale must be one of"):
        NonLocal(scale="sqrt")
    with pytest.raises(ValueError, match=r"sub_sample must be True or False"):
        NonLocal(sub_sample="yes")
    with pytest.raises(ValueError, match=r"reduction must be a positive"):
        NonLocal(reduction=-2)
