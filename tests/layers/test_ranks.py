"""The blocks on sequences (3-D maps) and volumes (5-D maps).

Every block whose maths does not need exactly two spatial axes takes
`(batch, length, channels)` and `(batch, depth, height, width, channels)`
(and their channels_first forms): here each passes the whole layer
contract on both ranks, equals its NumPy reference on both (the
references in tests/layers/reference.py are written for any number of
spatial axes), and on a sequence equals the 2-D block on the same data as
an image of width 1 under the same weights. The blocks tied to two
spatial axes refuse other ranks with a message that says why.
"""

import re

import keras
import numpy as np
import pytest

from keras_chattn import layers
from keras_chattn.layers.eca import adaptive_kernel_size
from tests import harness
from tests.harness import to_numpy
from tests.layers import reference


def transform_count(channels, units):
    """One GlobalContext transform: Dense, LayerNorm, Dense."""
    return channels * units + units + 2 * units + units * channels + channels


def bam_count(c, units, taps, convs=2):
    """BAM's trainable weights with `taps` positions per dilated kernel
    (3 on a sequence, 27 on a volume)."""
    channel = c * units + units + 2 * units + units * c + c
    spatial = c * units + units + 2 * units
    spatial += convs * (taps * units * units + units + 2 * units) + units + 1
    return channel + spatial


def c3_count(area, reduction):
    units = area // reduction
    return 2 * (2 * area * units + units + area)


def bam_case(shape, taps, case_id):
    """BAM with reduction 8 on 32 channels (4 units, 4 BatchNorms); the
    biases right before a BatchNorm never learn."""
    return harness.LayerCase(
        layers.BAM,
        {"reduction": 8},
        shape,
        trainable=bam_count(32, 4, taps=taps),
        non_trainable=2 * 4 * 4,
        gradient_free=(
            "channel_fc/bias",
            "spatial_reduce/bias",
            "spatial_dilated0/bias",
            "spatial_dilated1/bias",
        ),
        id=case_id,
    )


SEQUENCE_CASES = [
    harness.LayerCase(
        layers.SqueezeExcite, {}, (30, 32), trainable=162, id="SE-1d"
    ),
    harness.LayerCase(
        layers.ChannelAttention,
        {"pool_types": ["avg", "max", "lp"]},
        (30, 16),
        trainable=16 + 1 + 16 + 16,
        id="ChannelAttention-1d",
    ),
    harness.LayerCase(
        layers.SpatialAttention,
        {},
        (30, 8),
        trainable=7 * 2 + 2,
        non_trainable=2,
        id="SpatialAttention-1d",
    ),
    harness.LayerCase(
        layers.CBAM,
        {"reduction": 4},
        (30, 16),
        trainable=148 + 7 * 2 + 2,
        non_trainable=2,
        id="CBAM-1d",
    ),
    harness.LayerCase(
        layers.ECA,
        {},
        (30, 32),
        trainable=adaptive_kernel_size(32),
        id="ECA-1d",
    ),
    harness.LayerCase(
        layers.GlobalContext,
        {},
        (30, 32),
        trainable=33 + transform_count(32, 4),
        gradient_free=("mask/bias",),
        id="GC-1d",
    ),
    harness.LayerCase(layers.SimAM, {}, (30, 8), trainable=0, id="SimAM-1d"),
    harness.LayerCase(
        layers.BridgeAttention,
        {},
        [(20, 16), (20, 16), (20, 64)],
        trainable=16 * 4 * 2 + 64 * 4 + 3 * 8 + 4 * 64,
        non_trainable=3 * 8,
        id="BA-1d",
    ),
    harness.LayerCase(
        layers.CrossChannelComm,
        {"spatial_size": 16, "reduction": 4},
        (24, 6),
        trainable=c3_count(16, 4),
        id="C3-1d",
    ),
    # A context of 11 positions, 2 coefficients per channel.
    harness.LayerCase(
        layers.ContextualConv,
        {},
        (30, 8),
        trainable=8 * (2 * 11 + 2),
        id="CC-1d",
    ),
    bam_case((30, 32), taps=3, case_id="BAM-1d"),
    harness.LayerCase(
        layers.DualAttention,
        {"reduction": 4},
        (30, 16),
        trainable=2 * (16 * 4 + 4) + 16 * 16 + 16 + 2,
        gradient_free=("key/bias",),
        id="DANet-1d",
    ),
    harness.LayerCase(
        layers.EffectiveSqueezeExcite, {}, (30, 16), trainable=272,
        id="ESE-1d",
    ),
    harness.LayerCase(
        layers.ConcurrentSqueezeExcite, {"reduction": 4}, (30, 16),
        trainable=165, id="scSE-1d",
    ),
    harness.LayerCase(
        layers.SpatialGroupEnhance, {"groups": 4}, (30, 16), trainable=8,
        id="SGE-1d",
    ),
    harness.LayerCase(
        layers.GatedChannelTransform, {}, (30, 16), trainable=48,
        id="GCT-1d",
    ),
    harness.LayerCase(
        layers.NonLocal, {"sub_sample": True}, (30, 16), trainable=584,
        non_trainable=32, gradient_free=("phi/bias", "g/bias", "out/bias"),
        id="NL-1d",
    ),
]  # fmt: skip

VOLUME_CASES = [
    harness.LayerCase(
        layers.SqueezeExcite,
        {"reduction": 4},
        (3, 4, 5, 16),
        trainable=148,
        id="SE-3d",
    ),
    harness.LayerCase(
        layers.ChannelAttention,
        {},
        (3, 4, 5, 32),
        trainable=162,
        id="ChannelAttention-3d",
    ),  # fmt: skip
    harness.LayerCase(
        layers.SpatialAttention,
        {"kernel_size": 3},
        (3, 4, 5, 8),
        trainable=27 * 2 + 2,
        non_trainable=2,
        id="SpatialAttention-3d",
    ),
    harness.LayerCase(
        layers.CBAM,
        {"reduction": 4, "spatial_kernel_size": 3},
        (3, 4, 5, 16),
        trainable=148 + 27 * 2 + 2,
        non_trainable=2,
        id="CBAM-3d",
    ),
    harness.LayerCase(
        layers.ECA,
        {"kernel_size": 5},
        (3, 4, 5, 32),
        trainable=5,
        id="ECA-3d",
    ),  # fmt: skip
    harness.LayerCase(
        layers.GlobalContext,
        {"fusion": "both", "reduction": 4},
        (3, 4, 5, 16),
        trainable=17 + 2 * transform_count(16, 4),
        gradient_free=("mask/bias",),
        id="GC-3d",
    ),
    harness.LayerCase(
        layers.SimAM, {}, (3, 4, 5, 8), trainable=0, id="SimAM-3d"
    ),
    harness.LayerCase(
        layers.BridgeAttention,
        {"reduction": 4},
        [(3, 4, 5, 8), (3, 4, 5, 16)],
        trainable=8 * 4 + 16 * 4 + 2 * 2 * 4 + 4 * 16,
        non_trainable=2 * 2 * 4,
        id="BA-3d",
    ),
    harness.LayerCase(
        layers.CrossChannelComm,
        {"spatial_size": (2, 2, 4), "reduction": 4},
        (4, 6, 6, 5),
        trainable=c3_count(16, 4),
        id="C3-3d",
    ),
    # A 4x4x4 context, 6 coefficients (a pair per axis) per channel.
    harness.LayerCase(
        layers.ContextualConv,
        {"context_size": 4, "emp": "gaussian"},
        (5, 6, 7, 4),
        trainable=4 * (6 * 64 + 6),
        id="CC-3d",
    ),
    bam_case((3, 4, 5, 32), taps=27, case_id="BAM-3d"),
    harness.LayerCase(
        layers.DualAttention,
        {"reduction": 4},
        (3, 4, 5, 8),
        trainable=2 * (8 * 2 + 2) + 8 * 8 + 8 + 2,
        gradient_free=("key/bias",),
        id="DANet-3d",
    ),
    harness.LayerCase(
        layers.EffectiveSqueezeExcite, {}, (3, 4, 5, 16), trainable=272,
        id="ESE-3d",
    ),
    harness.LayerCase(
        layers.ConcurrentSqueezeExcite, {"reduction": 4}, (3, 4, 5, 16),
        trainable=165, id="scSE-3d",
    ),
    harness.LayerCase(
        layers.SpatialGroupEnhance, {"groups": 4}, (3, 4, 5, 16),
        trainable=8, id="SGE-3d",
    ),
    harness.LayerCase(
        layers.GatedChannelTransform, {"mode": "l1"}, (3, 4, 5, 16),
        trainable=48, id="GCT-3d",
    ),
    harness.LayerCase(
        layers.NonLocal, {"sub_sample": True}, (3, 4, 5, 16), trainable=584,
        non_trainable=32, gradient_free=("phi/bias", "g/bias", "out/bias"),
        id="NL-3d",
    ),
]  # fmt: skip

# Compiling, mixed precision and the fresh-process reloads are where the
# time goes on these ranks; the same checks run on images by default and on
# these ranks with -m slow (CI).
SLOW_ON_OTHER_RANKS = (
    harness.check_jit_compile,
    harness.check_mixed_float16,
    harness.check_mixed_bfloat16,
    harness.check_saved_artifacts,
)
test_contract_on_sequences = harness.contract_test(
    SEQUENCE_CASES, slow_checks=SLOW_ON_OTHER_RANKS
)
test_contract_on_volumes = harness.contract_test(
    VOLUME_CASES, slow_checks=SLOW_ON_OTHER_RANKS
)


# ------------------------------------------------- NumPy references


def random_map(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def built_randomized(layer, shape):
    layer.build(shape)
    harness.randomize_weights(layer)
    return layer


def mlp_weights(layer):
    return [
        np.asarray(w, "float64")
        for w in (layer.reduce.kernel, layer.reduce.bias,
                  layer.expand.kernel, layer.expand.bias)
    ]  # fmt: skip


def batchnorm_weights(norm):
    return [
        np.asarray(w, "float64")
        for w in (norm.gamma, norm.beta, norm.moving_mean,
                  norm.moving_variance)
    ]  # fmt: skip


def squeeze_excite_case(shape):
    layer = built_randomized(layers.SqueezeExcite(reduction=4), shape)
    return layer, lambda x: reference.channel_attention(
        x, mlp_weights(layer), ["avg"]
    )


def channel_attention_case(shape):
    pools = ["avg", "max", "lse"]
    layer = built_randomized(
        layers.ChannelAttention(reduction=4, pool_types=pools), shape
    )
    return layer, lambda x: reference.channel_attention(
        x, mlp_weights(layer), pools
    )


def spatial_attention_case(shape):
    layer = built_randomized(layers.SpatialAttention(kernel_size=3), shape)
    kernel = np.asarray(layer.conv.kernel, "float64")
    bn = batchnorm_weights(layer.batchnorm)
    return layer, lambda x: reference.spatial_attention(x, kernel, bn)


def cbam_case(shape):
    layer = built_randomized(
        layers.CBAM(reduction=4, spatial_kernel_size=3), shape
    )
    channel = mlp_weights(layer.channel_attention)
    spatial = layer.spatial_attention
    kernel = np.asarray(spatial.conv.kernel, "float64")
    bn = batchnorm_weights(spatial.batchnorm)

    def expected(x):
        y = reference.channel_attention(x, channel, ["avg", "max"])
        return reference.spatial_attention(y, kernel, bn)

    return layer, expected


def eca_case(shape):
    layer = built_randomized(layers.ECA(kernel_size=5), shape)
    kernel = np.asarray(layer.conv.kernel, "float64").reshape(-1)
    return layer, lambda x: reference.eca(x, kernel)


def global_context_case(shape):
    layer = built_randomized(
        layers.GlobalContext(reduction=4, fusion="both"), shape
    )
    w = reference.weights_by_path(layer)
    mask = (w["mask/kernel"], w["mask/bias"])
    transforms = reference.gc_transforms(layer, w)
    return layer, lambda x: reference.global_context(x, mask, transforms)


def simam_case(shape):
    layer = built_randomized(layers.SimAM(e_lambda=0.1), shape)
    return layer, lambda x: reference.simam(x, 0.1)


def cross_channel_comm_case(shape):
    # At the input's own size (the reference does not resize).
    layer = built_randomized(layers.CrossChannelComm(reduction=4), shape)
    dense = [
        (np.asarray(d.kernel, "float64"), np.asarray(d.bias, "float64"))
        for d in (layer.encoder_in, layer.encoder_out,
                  layer.decoder_in, layer.decoder_out)
    ]  # fmt: skip
    return layer, lambda x: reference.cross_channel_comm(x, dense)


def bam_case(shape):
    layer = built_randomized(layers.BAM(reduction=4, dilation=2), shape)
    w = reference.weights_by_path(layer)
    return layer, lambda x: reference.bam(x, w, "multiply", 2, 2)


def dual_attention_case(shape):
    layer = built_randomized(layers.DualAttention(reduction=4), shape)
    w = reference.weights_by_path(layer)
    return layer, lambda x: reference.dual_attention(x, w, "code", "sum")


REFERENCE_CASES = {
    "se": squeeze_excite_case,
    "channel_attention": channel_attention_case,
    "spatial_attention": spatial_attention_case,
    "cbam": cbam_case,
    "eca": eca_case,
    "gc": global_context_case,
    "simam": simam_case,
    "c3": cross_channel_comm_case,
    "bam": bam_case,
    "danet": dual_attention_case,
}
SHAPES = {"sequence": (2, 23, 16), "volume": (2, 3, 5, 4, 16)}


@pytest.mark.parametrize("rank", sorted(SHAPES))
@pytest.mark.parametrize("block", sorted(REFERENCE_CASES))
def test_matches_numpy_reference(block, rank):
    x = random_map(SHAPES[rank])
    layer, expected = REFERENCE_CASES[block](x.shape)
    np.testing.assert_allclose(
        to_numpy(layer(x, training=False)),
        expected(x.astype("float64")),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.parametrize("rank", sorted(SHAPES))
def test_bridge_attention_matches_numpy_reference(rank):
    shape = SHAPES[rank]
    maps = [random_map((*shape[:-1], c), seed=c) for c in (8, 8, shape[-1])]
    layer = built_randomized(
        layers.BridgeAttention(reduction=4), [m.shape for m in maps]
    )
    expected = reference.bridge_attention(
        [m.astype("float64") for m in maps],
        [np.asarray(d.kernel, "float64") for d in layer.fusions],
        [batchnorm_weights(n) for n in layer.fusion_norms],
        np.asarray(layer.expand.kernel, "float64"),
    )
    np.testing.assert_allclose(
        to_numpy(layer(maps, training=False)), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("rank", sorted(SHAPES))
@pytest.mark.parametrize("emp", ["bilinear", "gaussian", "sine"])
def test_contextual_conv_matches_numpy_reference(emp, rank):
    x = random_map(SHAPES[rank])
    layer = built_randomized(
        layers.ContextualConv(emp=emp, context_size=4), x.shape
    )
    expected, coefficients = reference.contextual_conv_reduced(
        x.astype("float64"),
        np.asarray(layer.kernel, "float64"),
        np.asarray(layer.bias, "float64"),
        tuple(min(s, 4) for s in x.shape[1:-1]),
        emp,
    )
    np.testing.assert_allclose(
        to_numpy(layer.coefficients(x)), coefficients, rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(layer(x)), expected, rtol=1e-4, atol=1e-5
    )


def test_excitation_maps_of_zero_coefficients_keep_their_meaning():
    # P = 0: the bilinear and sine maps are the identity on every rank.
    for sizes in [(7,), (3, 4, 5)]:
        for emp in ("bilinear", "sine"):
            layer = layers.ContextualConv(emp=emp, variant="input_independent")
            x = random_map((2, *sizes, 3))
            np.testing.assert_allclose(to_numpy(layer(x)), x, atol=1e-6)


# ----------------------------- a sequence is an image of width 1


def copy_into_image_weights(sequence_layer, image_layer):
    """The 2-D layer's weights from the 1-D layer's: a k x k kernel on a
    width-1 image meets the data only through its middle column, which
    gets the 1-D kernel (the other columns are set to garbage, which must
    not matter); every other weight is copied as it is."""
    rng = np.random.default_rng(7)
    for source, target in zip(
        sequence_layer.weights, image_layer.weights, strict=True
    ):
        value = np.asarray(source)
        if value.ndim == 3 and len(target.shape) == 4:  # Conv1D -> Conv2D
            k = value.shape[0]
            image = rng.normal(size=target.shape).astype("float32")
            image[:, k // 2] = value
            value = image
        target.assign(value)


EQUIVALENT = {
    "se": (layers.SqueezeExcite, {"reduction": 4}),
    "channel_attention": (
        layers.ChannelAttention,
        {"reduction": 4, "pool_types": ["avg", "max", "lp"]},
    ),
    "spatial_attention": (layers.SpatialAttention, {}),
    "cbam": (layers.CBAM, {"reduction": 4}),
    "eca": (layers.ECA, {}),
    "gc": (layers.GlobalContext, {"fusion": "both", "reduction": 4}),
    "simam": (layers.SimAM, {}),
    "c3": (layers.CrossChannelComm, {"reduction": 4}),
    "bam": (layers.BAM, {"reduction": 4}),
    "danet": (layers.DualAttention, {"reduction": 4}),
    "ese": (layers.EffectiveSqueezeExcite, {}),
    "scse": (layers.ConcurrentSqueezeExcite, {"reduction": 4}),
    "sge": (layers.SpatialGroupEnhance, {"groups": 4}),
    "gct": (layers.GatedChannelTransform, {}),
    "nl": (layers.NonLocal, {}),
}


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("block", sorted(EQUIVALENT))
def test_sequence_equals_image_of_width_one(block, data_format):
    x = random_map((2, 23, 16))  # (batch, length, channels)
    image = x[:, :, None, :]  # (batch, length, 1, channels)
    if data_format == "channels_first":
        x = harness.to_channels_first(x)
        image = harness.to_channels_first(image)
    cls, kwargs = EQUIVALENT[block]
    sequence_layer = built_randomized(
        cls(data_format=data_format, **kwargs), x.shape
    )
    image_layer = cls(data_format=data_format, **kwargs)
    image_layer.build(image.shape)
    copy_into_image_weights(sequence_layer, image_layer)
    expected = to_numpy(image_layer(image, training=False))
    got = to_numpy(sequence_layer(x, training=False))
    axis = 2 if data_format == "channels_last" else 3
    np.testing.assert_allclose(
        got, np.squeeze(expected, axis), rtol=1e-5, atol=1e-5
    )


def test_bridge_attention_sequence_equals_image_of_width_one():
    maps = [random_map((2, 23, c), seed=c) for c in (8, 16)]
    sequence_layer = built_randomized(
        layers.BridgeAttention(reduction=4), [m.shape for m in maps]
    )
    images = [m[:, :, None, :] for m in maps]
    image_layer = layers.BridgeAttention(reduction=4)
    image_layer.build([m.shape for m in images])
    copy_into_image_weights(sequence_layer, image_layer)
    np.testing.assert_allclose(
        to_numpy(sequence_layer(maps, training=False)),
        to_numpy(image_layer(images, training=False))[:, :, 0],
        rtol=1e-5,
        atol=1e-6,
    )


# ----------------------------------------------------------- refusals

IMAGE_ONLY = {
    layers.CoordinateAttention: ({}, r"along the height and along the width"),
    layers.TripletAttention: ({}, r"three branches each pair two"),
    layers.SelectiveKernel: ({"filters": 16}, r"grouped 2-D convolutions"),
    layers.EfficientLocalAttention: ({}, r"along the height and along"),
    layers.GatherExcite: ({}, r"gather is defined on images"),
    layers.MultiSpectralAttention: ({}, r"squeeze is a 2-D DCT"),
    layers.SplitAttention: ({"filters": 16}, r"grouped 2-D convolutions"),
}


@pytest.mark.parametrize("shape", [(None, 30, 16), (None, 3, 4, 5, 16)])
@pytest.mark.parametrize("cls", list(IMAGE_ONLY), ids=lambda c: c.__name__)
def test_image_only_blocks_refuse_other_ranks_and_say_why(cls, shape):
    kwargs, reason = IMAGE_ONLY[cls]
    with pytest.raises(ValueError, match=r"expects a 4-D input") as error:
        cls(**kwargs)(keras.Input(shape[1:]))
    message = str(error.value)
    assert f"input_shape={shape}" in message
    assert re.search(reason, message)


@pytest.mark.parametrize("shape", [(None, 16), (None, 2, 3, 4, 5, 6, 8)])
def test_ranks_outside_three_to_five_are_refused(shape):
    with pytest.raises(
        ValueError, match=r"expects a 3-D, 4-D or 5-D input .*"
    ) as error:
        layers.SqueezeExcite()(keras.Input(shape[1:]))
    assert f"input_shape={shape}" in str(error.value)


def test_a_built_block_keeps_its_rank():
    layer = layers.CBAM(reduction=2)
    layer(keras.Input((30, 8)))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=4"):
        layer(keras.Input((6, 5, 8)))


def test_c3_spatial_size_must_match_the_rank():
    with pytest.raises(ValueError, match=r"spatial_size=\(4, 4\) has 2 sizes"):
        layers.CrossChannelComm(spatial_size=(4, 4)).build((None, 30, 8))


def test_bridge_attention_refuses_mixed_ranks():
    with pytest.raises(ValueError, match=r"must all have one rank"):
        layers.BridgeAttention().build([(None, 30, 8), (None, 5, 6, 8)])
