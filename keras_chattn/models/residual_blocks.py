"""Residual blocks with an attention slot, named like keras.applications.

Every layer of a block is named from the block's prefix (`conv3_block2_1_conv`,
`conv3_block2_attention`, `conv3_block2_add`, ...), so attention outputs can be
found by name. A `"branch"` block goes on the residual branch after the last
BatchNorm and before the addition, where SE-Net and CBAM put it; a block that
takes its block's features (BA-Net) gets the block's maps: after the first
(and second) ReLU and the last BatchNorm, and recalibrates the last. The same
maps, one per convolution of the main path, are what `conv_outputs` collects
for the network-level bridge head (`head="bridge"`). An `"after_3x3"` block
(SimAM) goes right after the block's (last) 3x3 convolution, before its
BatchNorm (`{name}_attention`); a `"replace_conv"` block (selective kernel)
takes the place of the 3x3 convolution, BatchNorm and ReLU of the
bottleneck (`{name}_2_attention`) or of a basic block's first, strided one
(`{name}_1_attention`, as timm's SK-ResNets do).

Both helpers take the same keywords: `stride`, `shortcut`, `conv_style`,
`attention`, `attention_kwargs`, `name`, `conv_outputs`.
"""

from typing import Any

import keras

from keras_chattn.models import placement
from keras_chattn.models import positions
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.shortcut import ChannelPadShortcut
from keras_chattn.utils import layout
from keras_chattn.utils import validation
from keras_chattn.utils.types import AttentionLike

SHORTCUTS = ("identity", "conv", "pad", "avg")
STRIDE_ON = ("1x1", "3x3")


def _begin(x, filters, stride, shortcut, conv_style, name):
    """Checks the shared arguments; returns the style and the shortcut."""
    validation.choice("shortcut", shortcut, SHORTCUTS)
    if not isinstance(name, str) or not name:
        raise ValueError(
            "name must be the block's layer-name prefix, e.g. "
            f"'conv2_block1'. Received: name={name!r}"
        )
    conv_style = conv_style or ConvStyle()
    if shortcut == "identity":
        return conv_style, x
    if shortcut == "conv":
        return conv_style, conv_style.conv_bn(
            x, filters, 1, stride, f"{name}_0"
        )
    if shortcut == "avg":
        # ResNet-D (He et al., "Bag of Tricks", 2019): average-pool, then a
        # 1x1 convolution at stride 1. "same" pooling averages only the
        # map's own values, as PyTorch's ceil_mode, count_include_pad=False.
        if stride != 1:
            x = keras.layers.AveragePooling2D(
                stride,
                stride,
                padding="same",
                data_format=layout.image_data_format(),
                name=f"{name}_0_pool",
            )(x)
        return conv_style, conv_style.conv_bn(x, filters, 1, 1, f"{name}_0")
    pad = ChannelPadShortcut(filters, stride, name=f"{name}_0_pad")
    return conv_style, pad(x)


def at_position(x, spec, position, name):
    """A block moved to `position` (see `keras_chattn.models.positions`)
    on `x` (`{name}_attention`); `x` unchanged elsewhere."""
    if spec is not None and spec.at(position):
        return spec.apply(x, f"{name}_attention")
    return x


def start_residual(x, residual, spec, name, form):
    """The `"pre"` and `"identity"` positions: (branch input, shortcut)."""
    if spec is not None:
        positions.check_form(spec.position, form, f"a {form} block")
    residual = at_position(residual, spec, "identity", name)
    return at_position(x, spec, "pre", name), residual


def finish_residual(x, residual, features, spec, name, conv_outputs):
    """Attention on the branch, the addition and the output ReLU (and a
    block moved `"post"` after them)."""
    features = [*features, x]
    if conv_outputs is not None:
        conv_outputs.extend(features)
    if placement.goes(spec, "branch"):
        x = spec.apply(x, f"{name}_attention", features=features[:-1])
    x = keras.layers.Add(name=f"{name}_add")([residual, x])
    x = keras.layers.Activation("relu", name=f"{name}_out")(x)
    return at_position(x, spec, "post", name)


def apply_bottleneck_block(
    x: keras.KerasTensor,
    filters: int,
    stride: int = 1,
    shortcut: str = "identity",
    conv_style: str | None = None,
    attention: AttentionLike | placement.AttentionSpec = None,
    attention_kwargs: dict[str, Any] | None = None,
    name: str | None = None,
    conv_outputs: list | None = None,
    stride_on: str = "1x1",
    width: int | None = None,
    groups: int = 1,
    attention_position: str = "standard",
) -> keras.KerasTensor:
    """The ResNet-50/101/152 block of keras.applications (ResNet v1).

    1x1 (`width`, stride here as in keras.applications) -> 3x3 (`width`,
    `groups`) -> 1x1 (`4 * filters`), each with BatchNorm, ReLU after the
    first two; the attention block on the branch; add the shortcut; ReLU.
    `stride_on="3x3"` strides the 3x3 instead (torchvision's and timm's
    "v1.5"); `width` and `groups` make a ResNeXt block.

    Args:
        x: input tensor.
        filters: bottleneck width; the block outputs `4 * filters` channels.
        stride: stride of the first 1x1 conv and of the shortcut.
        shortcut: `"identity"`, `"conv"` (1x1 conv + BN, keras.applications'
            first block of a stage), `"avg"` (average pool, then 1x1 conv +
            BN: ResNet-D) or `"pad"` (subsample and zero-pad channels).
        conv_style: a `ConvStyle` (biases, initializer, BatchNorm);
            defaults to keras.applications'.
        attention: anything `keras_chattn.get_attention` takes, or an
            `AttentionSpec`; only a `"branch"` block goes here.
        attention_kwargs: keyword arguments of the attention block.
        name: block prefix, e.g. `"conv3_block1"`.
        conv_outputs: optional list; the outputs of the three main-path
            convolutions (after the first two ReLUs and the last BatchNorm)
            are appended to it.
        stride_on: `"1x1"` (keras.applications) or `"3x3"`.
        width: channels of the first two convolutions. Defaults to
            `filters`.
        groups: groups of the 3x3 convolution (ResNeXt's cardinality).
        attention_position: where the block goes (one of
            `keras_chattn.models.positions.POSITIONS`; an `AttentionSpec`
            carries its own).

    Examples:

        >>> import keras
        >>> from keras_chattn.models import apply_bottleneck_block
        >>> y = apply_bottleneck_block(
        ...     keras.Input((8, 8, 64)), 16, attention="se", name="conv2_block2"
        ... )
        >>> tuple(y.shape)
        (None, 8, 8, 64)
    """
    spec = placement.attention_spec(
        attention, attention_kwargs, position=attention_position
    )
    validation.choice("stride_on", stride_on, STRIDE_ON, ordered=True)
    width = (
        filters if width is None else validation.positive_int("width", width)
    )
    groups = validation.positive_int("groups", groups)
    conv_style, residual = _begin(
        x, 4 * filters, stride, shortcut, conv_style, name
    )
    x, residual = start_residual(x, residual, spec, name, "bottleneck")
    first_stride, second_stride = (
        (stride, 1) if stride_on == "1x1" else (1, stride)
    )
    x = conv_style.conv_bn(x, width, 1, first_stride, f"{name}_1")
    first = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    first = at_position(first, spec, "after_conv1", name)
    if placement.goes(spec, "replace_conv"):
        second = spec.apply_conv(
            first, width, second_stride, f"{name}_2_attention", conv_style
        )
    else:
        x = _conv3x3_bn(
            first, width, second_stride, conv_style, spec, name, "2", groups
        )
        second = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    second = at_position(second, spec, "after_conv2", name)
    x = conv_style.conv_bn(second, 4 * filters, 1, 1, f"{name}_3")
    return finish_residual(
        x, residual, [first, second], spec, name, conv_outputs
    )


def apply_basic_block(
    x: keras.KerasTensor,
    filters: int,
    stride: int = 1,
    shortcut: str = "identity",
    conv_style: str | None = None,
    attention: AttentionLike | placement.AttentionSpec = None,
    attention_kwargs: dict[str, Any] | None = None,
    name: str | None = None,
    conv_outputs: list | None = None,
    relu_before_attention: bool = False,
    attention_position: str = "standard",
) -> keras.KerasTensor:
    """The two-3x3-conv block of ResNet-18/34 and the CIFAR ResNets.

    3x3 (stride) -> BN -> ReLU -> 3x3 -> BN -> attention -> add shortcut ->
    ReLU.

    Args:
        x: input tensor.
        filters: output channels.
        stride: stride of the first conv and of the shortcut.
        shortcut: `"identity"`, `"conv"` (1x1 conv + BN, option B) or `"pad"`
            (subsample and zero-pad channels, option A).
        conv_style: a `ConvStyle` (biases, initializer, BatchNorm);
            defaults to keras.applications'.
        attention: anything `keras_chattn.get_attention` takes, or an
            `AttentionSpec`; only a `"branch"` block goes here.
        attention_kwargs: keyword arguments of the attention block.
        name: block prefix, e.g. `"conv2_block1"`.
        conv_outputs: optional list; the outputs of the two main-path
            convolutions (after the first ReLU and the second BatchNorm) are
            appended to it.
        relu_before_attention: a ReLU after the second BatchNorm, before
            the attention block and the addition (the SE authors' released
            SE-ResNet-18/34, timm's `legacy_seresnet18/34`).
        attention_position: where the block goes (one of
            `keras_chattn.models.positions.POSITIONS` but `"after_conv2"`,
            the standard place here; an `AttentionSpec` carries its own).

    Examples:

        >>> import keras
        >>> from keras_chattn.models import apply_basic_block
        >>> y = apply_basic_block(
        ...     keras.Input((8, 8, 16)), 32, stride=2, shortcut="pad",
        ...     attention="cbam", name="conv3_block1",
        ... )
        >>> tuple(y.shape)
        (None, 4, 4, 32)
    """
    spec = placement.attention_spec(
        attention, attention_kwargs, position=attention_position
    )
    conv_style, residual = _begin(
        x, filters, stride, shortcut, conv_style, name
    )
    x, residual = start_residual(x, residual, spec, name, "basic")
    if placement.goes(spec, "replace_conv"):
        first = spec.apply_conv(
            x, filters, stride, f"{name}_1_attention", conv_style
        )
    else:
        x = conv_style.conv_bn(x, filters, 3, stride, f"{name}_1")
        first = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    first = at_position(first, spec, "after_conv1", name)
    x = _conv3x3_bn(first, filters, 1, conv_style, spec, name, "2")
    if relu_before_attention:
        x = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    return finish_residual(x, residual, [first], spec, name, conv_outputs)


def _conv3x3_bn(x, filters, stride, conv_style, spec, name, index, groups=1):
    """The 3x3 conv `{name}_{index}_conv` and its BatchNorm, with an
    `"after_3x3"` block (SimAM) between them."""
    x = conv_style.conv(
        x, filters, 3, stride, f"{name}_{index}_conv", groups=groups
    )
    if placement.goes(spec, "after_3x3"):
        x = spec.apply(x, f"{name}_attention")
    return conv_style.batchnorm(x, f"{name}_{index}_bn")
