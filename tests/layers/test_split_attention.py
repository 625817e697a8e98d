import numpy as np
import pytest

from keras_chattn.layers import SplitAttention
from tests import harness
from tests.layers import parity


def splat_count(c_in, filters, radix, units, groups=1):
    conv = 9 * (c_in // (groups * radix)) * radix * filters
    fc = (
        (filters // groups) * units
        + units
        + (units // groups) * radix * filters
    )
    fc += radix * filters
    return conv + 2 * radix * filters + fc + 2 * units


CASES = [
    harness.LayerCase(
        SplitAttention,
        {"filters": 16},
        (6, 7, 16),
        trainable=splat_count(16, 16, 2, 32),
        non_trainable=2 * 32 + 2 * 32,
        gradient_free=("fc1/bias",),  # right before a BatchNorm (timm's)
    ),
    harness.LayerCase(
        SplitAttention,
        {"filters": 32, "strides": 2, "radix": 1, "groups": 2},
        (7, 9, 16),
        trainable=splat_count(16, 32, 1, 32, groups=2),
        non_trainable=2 * 32 + 2 * 32,
        output_shape=lambda shape: (-(-shape[0] // 2), -(-shape[1] // 2), 32),
        gradient_free=("fc1/bias",),
        id="Splat-strided-radix1-grouped",
    ),
    harness.LayerCase(
        SplitAttention,
        {"filters": 16, "strides": 2, "avd": False, "radix": 4},
        (6, 7, 16),
        trainable=splat_count(16, 16, 4, 32),
        non_trainable=2 * 64 + 2 * 32,
        output_shape=lambda shape: (-(-shape[0] // 2), -(-shape[1] // 2), 16),
        gradient_free=("fc1/bias",),
        id="Splat-strided-conv-radix4",
    ),
]

test_contract = harness.contract_test(CASES)


def move_from_timm(layer, module):
    layer.conv.set_weights([parity.conv_kernel(module.conv.weight)])
    layer.conv_bn.set_weights(parity.batchnorm_weights(module.bn0))
    for ours, conv in ((layer.fc1, module.fc1), (layer.fc2, module.fc2)):
        ours.set_weights(
            [parity.conv_kernel(conv.weight), parity.as_numpy(conv.bias)]
        )
    layer.fc1_bn.set_weights(parity.batchnorm_weights(module.bn1))


@pytest.mark.parametrize(
    "radix, groups, strides", [(2, 1, 1), (4, 2, 1), (1, 1, 2), (2, 2, 2)]
)
def test_equals_timm_split_attn(radix, groups, strides):
    parity.timm_layers()
    import torch
    from timm.layers import SplitAttn

    module = SplitAttn(
        64, 64, stride=strides, groups=groups, radix=radix,
        norm_layer=torch.nn.BatchNorm2d,
    )  # fmt: skip
    module = parity.randomize_torch(module)
    x = parity.seeded_inputs((2, 9, 7, 64))
    layer = SplitAttention(
        64, strides=strides, radix=radix, groups=groups, avd=False
    )
    layer.build(x.shape)
    move_from_timm(layer, module)
    parity.check(
        f"splat radix {radix} groups {groups} stride {strides}",
        "timm SplitAttn",
        layer(x, training=False),
        parity.run_torch(module, x),
        1e-5,
    )


def test_avd_is_the_convolution_then_an_average_pool():
    x = parity.seeded_inputs((2, 9, 7, 32))
    strided = SplitAttention(32, strides=2)
    flat = SplitAttention(32)
    strided.build(x.shape)
    flat.build(x.shape)
    harness.randomize_weights(strided)
    flat.set_weights(strided.get_weights())
    y = harness.to_numpy(flat(x, training=False))
    padded = np.pad(y, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.zeros((2, 5, 4, 32))
    for i in range(5):
        for j in range(4):
            window = padded[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3]
            expected[:, i, j] = window.sum(axis=(1, 2)) / 9.0
    np.testing.assert_allclose(
        harness.to_numpy(strided(x, training=False)),
        expected,
        rtol=1e-5,
        atol=1e-6,
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"radix must be a positive"):
        SplitAttention(16, radix=0)
    with pytest.raises(ValueError, match=r"avd must be True or False"):
        SplitAttention(16, avd=None)
    with pytest.raises(ValueError, match=r"input channels divisible by"):
        SplitAttention(16, radix=2).build((None, 8, 8, 9))
    with pytest.raises(ValueError, match=r"expects a 4-D input"):
        SplitAttention(16)(np.ones((2, 8, 16), "float32"))
