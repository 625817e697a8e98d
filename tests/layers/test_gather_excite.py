import numpy as np
import pytest

from keras_chattn.layers import GatherExcite
from tests import harness
from tests.layers import parity

CASES = [
    harness.LayerCase(GatherExcite, {}, (6, 7, 16), trainable=49),
    harness.LayerCase(
        GatherExcite,
        {"extent": 2, "add_maxpool": True},
        (7, 5, 16),
        trainable=49,
        id="GE-free-extent2",
    ),
    harness.LayerCase(
        GatherExcite,
        {"extent": 4, "parametric": True},
        (9, 8, 16),
        trainable=2 * (9 * 16 + 32) + 49,
        non_trainable=64,
        id="GE-theta-extent4",
    ),
    harness.LayerCase(
        GatherExcite,
        {"parametric": True, "feature_size": 5, "use_mlp": False},
        (5, 5, 16),
        trainable=25 * 16 + 32,
        non_trainable=32,
        id="GE-theta-global",
    ),
]

test_contract = harness.contract_test(CASES)


def free_gather(x, extent):
    """The parameter-free gather of a channels_last map, written as the
    paper's windows: mean over positions within extent - 1 of every
    extent-th one, clipped at the border."""
    if extent == 0:
        return x.mean(axis=(1, 2), keepdims=True)
    rows, columns = x.shape[1:3]
    out = np.zeros(
        (x.shape[0], -(-rows // extent), -(-columns // extent), x.shape[-1])
    )
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            r, c = i * extent, j * extent
            window = x[
                :,
                max(r - extent + 1, 0) : r + extent,
                max(c - extent + 1, 0) : c + extent,
            ]
            out[:, i, j] = window.mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("extent", [0, 2, 4])
def test_free_gather_matches_numpy_reference(extent):
    x = parity.seeded_inputs((2, 9, 7, 16)).astype("float64")
    layer = GatherExcite(extent=extent, use_mlp=False)
    layer.build(x.shape)
    gathered = free_gather(x, extent)
    rows = np.floor(np.arange(9) * gathered.shape[1] / 9).astype(int)
    columns = np.floor(np.arange(7) * gathered.shape[2] / 7).astype(int)
    spread = gathered[:, rows][:, :, columns]
    np.testing.assert_allclose(
        harness.to_numpy(layer(x.astype("float32"))),
        x / (1 + np.exp(-spread)),
        rtol=1e-5,
        atol=1e-6,
    )


def move_mlp(layer, module):
    for ours, conv in (
        (layer.fc1, module.mlp.fc1),
        (layer.fc2, module.mlp.fc2),
    ):
        ours.set_weights(
            [parity.dense_kernel(conv.weight), parity.as_numpy(conv.bias)]
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"add_maxpool": True},
        {"extent": 2},
        {"extent": 4, "add_maxpool": True},
        {"extent": 2, "parametric": True},
        {"extent": 8, "parametric": True},
        {"parametric": True, "feature_size": (9, 7)},
    ],
    ids=str,
)
def test_equals_timm_gather_excite(kwargs, monkeypatch):
    timm = parity.timm_layers()
    from timm.layers import gather_excite

    # timm 1.0.31's GatherExcite passes its device/dtype dict with one star
    # (`*dd`) to ConvMlp, create_conv2d and BatchNorm2d, so it cannot be
    # built with an MLP or a parametric gather; each gets its leading
    # positional arguments only, as intended. Its forward pass is untouched.
    for owner, name, kept in (
        (gather_excite, "ConvMlp", 2),
        (gather_excite, "create_conv2d", 2),
        (gather_excite.nn, "BatchNorm2d", 1),
    ):
        original = getattr(owner, name)
        monkeypatch.setattr(
            owner, name, lambda *a, _f=original, _n=kept, **k: _f(*a[:_n], **k)
        )
    extent = kwargs.get("extent", 0)
    module = timm.GatherExcite(
        64,
        feat_size=kwargs.get("feature_size"),
        extra_params=kwargs.get("parametric", False),
        extent=extent,
        add_maxpool=kwargs.get("add_maxpool", False),
    )
    module = parity.randomize_torch(module)
    x = parity.seeded_inputs((2, 9, 7, 64))
    layer = GatherExcite(**kwargs)
    layer.build(x.shape)
    move_mlp(layer, module)
    for index, (conv, norm) in enumerate(layer.gather_layers, start=1):
        conv.set_weights(
            [
                parity.depthwise_kernel(
                    getattr(module.gather, f"conv{index}").weight
                )
            ]
        )
        norm.set_weights(
            parity.batchnorm_weights(getattr(module.gather, f"norm{index}"))
        )
    parity.check(
        f"ge {kwargs}",
        "timm GatherExcite",
        layer(x),
        parity.run_torch(module, x),
        2e-5,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"extent must be 0 .* or an even"):
        GatherExcite(extent=3)
    with pytest.raises(ValueError, match=r"must be 0 or a power of two"):
        GatherExcite(extent=6, parametric=True)
    with pytest.raises(ValueError, match=r"pass\s+feature_size"):
        GatherExcite(parametric=True)
    with pytest.raises(ValueError, match=r"feature_size must be a positive"):
        GatherExcite(parametric=True, feature_size=(3, 3, 3))
    with pytest.raises(ValueError, match=r"parameter-free gather only"):
        GatherExcite(extent=2, parametric=True, add_maxpool=True)
    with pytest.raises(ValueError, match=r"expects a 4-D input"):
        GatherExcite()(np.ones((2, 8, 16), "float32"))
