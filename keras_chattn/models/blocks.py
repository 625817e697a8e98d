"""Residual blocks with an attention slot, named like keras.applications.

Every layer of a block is named from the block's prefix (`conv3_block2_1_conv`,
`conv3_block2_attention`, `conv3_block2_add`, ...), so attention outputs can be
found by name. The attention block goes on the residual branch after the last
BatchNorm and before the addition, where SE-Net and CBAM put it. A block that
`needs_intermediate_features` (BA-Net) gets the block's maps: after the first
(and second) ReLU and the last BatchNorm, and recalibrates the last. The same
maps, one per convolution of the main path, are what `conv_outputs` collects
for the network-level bridge head (`head="bridge"`).
"""

import keras

from keras_chattn.layers.base import clone_initializer
from keras_chattn.layers.registry import get_attention
from keras_chattn.models import common
from keras_chattn.models.shortcut import ChannelPadShortcut
from keras_chattn.utils import validation

SHORTCUTS = ("identity", "conv", "pad")


def conv_bn(x, filters, kernel_size, stride, conv_bias, name, bn=None):
    """Conv2D `{name}_conv` then BatchNormalization `{name}_bn`."""
    bn = bn or {}
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=stride,
        padding="same" if kernel_size > 1 else "valid",
        use_bias=conv_bias,
        kernel_initializer=clone_initializer(
            keras.initializers.get(
                bn.get("kernel_initializer", "glorot_uniform")
            )
        ),
        name=f"{name}_conv",
    )(x)
    return keras.layers.BatchNormalization(
        axis=common.bn_axis(),
        epsilon=bn.get("epsilon", 1.001e-5),
        momentum=bn.get("momentum", 0.99),
        name=f"{name}_bn",
    )(x)


def _shortcut(x, filters, stride, kind, conv_bias, name, bn):
    if kind == "identity":
        return x
    if kind == "conv":
        return conv_bn(x, filters, 1, stride, conv_bias, f"{name}_0", bn)
    return ChannelPadShortcut(filters, stride, name=f"{name}_0_pad")(x)


def _finish(
    x,
    shortcut,
    features,
    attention,
    attention_kwargs,
    scale,
    name,
    conv_outputs,
):
    factory = get_attention(attention)
    features = [*features, x]
    if conv_outputs is not None:
        conv_outputs.extend(features)
    x = common.attend(
        x,
        factory,
        attention_kwargs,
        "branch",
        f"{name}_attention",
        scale,
        features=features,
    )
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def apply_bottleneck_block(
    x,
    filters,
    stride=1,
    conv_shortcut=False,
    conv_bias=True,
    attention=None,
    attention_kwargs=None,
    scale="imagenet",
    name=None,
    conv_outputs=None,
):
    """The ResNet-50/101/152 block of keras.applications (ResNet v1).

    1x1 (`filters`, stride here as in keras.applications) -> 3x3 -> 1x1
    (`4 * filters`), each with BatchNorm, ReLU after the first two; the
    attention block on the branch; add the shortcut (a 1x1 conv + BN when
    `conv_shortcut`); ReLU.

    Args:
        x: input tensor.
        filters: bottleneck width; the block outputs `4 * filters` channels.
        stride: stride of the first 1x1 conv and of the shortcut.
        conv_shortcut: 1x1 projection shortcut instead of identity.
        conv_bias: biases in the convolutions (keras.applications: True).
        attention: anything `keras_chattn.get_attention` takes.
        attention_kwargs: keyword arguments of every attention block.
        scale: "imagenet" or "cifar", passed to the block's
            `position_kwargs`.
        name: block prefix, e.g. `"conv3_block1"`.
        conv_outputs: optional list; the outputs of the three main-path
            convolutions (after the first two ReLUs and the last BatchNorm)
            are appended to it.
    """
    if conv_shortcut:
        shortcut = _shortcut(
            x, 4 * filters, stride, "conv", conv_bias, name, None
        )
    else:
        shortcut = x
    x = conv_bn(x, filters, 1, stride, conv_bias, f"{name}_1")
    first = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = conv_bn(first, filters, 3, 1, conv_bias, f"{name}_2")
    second = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = conv_bn(second, 4 * filters, 1, 1, conv_bias, f"{name}_3")
    return _finish(
        x,
        shortcut,
        [first, second],
        attention,
        attention_kwargs,
        scale,
        name,
        conv_outputs,
    )


def apply_basic_block(
    x,
    filters,
    stride=1,
    shortcut="identity",
    conv_bias=True,
    attention=None,
    attention_kwargs=None,
    bn=None,
    scale="imagenet",
    name=None,
    conv_outputs=None,
):
    """The two-3x3-conv block of ResNet-18/34 and the CIFAR ResNets.

    3x3 (stride) -> BN -> ReLU -> 3x3 -> BN -> attention -> add shortcut ->
    ReLU.

    Args:
        x: input tensor.
        filters: output channels.
        stride: stride of the first conv and of the shortcut.
        shortcut: `"identity"`, `"conv"` (1x1 conv + BN, option B) or `"pad"`
            (subsample and zero-pad channels, option A).
        conv_bias: biases in the convolutions.
        attention: anything `keras_chattn.get_attention` takes.
        attention_kwargs: keyword arguments of every attention block.
        bn: optional dict with `epsilon`, `momentum` and the convolutions'
            `kernel_initializer`.
        scale: "imagenet" or "cifar", passed to the block's
            `position_kwargs`.
        name: block prefix, e.g. `"conv2_block1"`.
        conv_outputs: optional list; the outputs of the two main-path
            convolutions (after the first ReLU and the second BatchNorm) are
            appended to it.
    """
    validation.choice("shortcut", shortcut, SHORTCUTS)
    residual = _shortcut(x, filters, stride, shortcut, conv_bias, name, bn)
    x = conv_bn(x, filters, 3, stride, conv_bias, f"{name}_1", bn)
    first = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = conv_bn(first, filters, 3, 1, conv_bias, f"{name}_2", bn)
    return _finish(
        x,
        residual,
        [first],
        attention,
        attention_kwargs,
        scale,
        name,
        conv_outputs,
    )
