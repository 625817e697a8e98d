"""timm's ResNet-family attention networks, built by our `ResNet` loop.

Each name of `TIMM_ARCHITECTURES` is a network of timm (`timm/models/
resnet.py`, `senet.py`, `sknet.py` and `resnest.py`) written with this package's
builder, blocks and layer names, so that timm's weights load into it
(`from_timm`) and everything that reads our networks (`summary_table`,
`attention_maps`, `add_attention`, export) reads it.

What makes a timm ResNet, each one argument here: the stride on the 3x3
(timm's bottleneck) or on the first 1x1 (the SE authors' `legacy_`
networks); a 7x7 stem, a deep (32-32-64) or tiered (24-32-64) one;
average-pool shortcuts (the "d" networks); grouped widths (ResNeXt); SE
with timm's hidden width (`make_divisible(C / 16, 8)`, which `min_units=8`
gives for every ResNet width), ECA, timm's selective kernel or ResNeSt's
split attention (in the 3x3 convolution's place); BatchNorm
epsilon 1e-5; PyTorch's symmetric padding of strided convolutions.
"""

import dataclasses
import functools
from typing import Any

import keras

from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.conv_style import pad_both_sides
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.models.residual_blocks import apply_bottleneck_block
from keras_chattn.models.resnet_builder import ResNet
from keras_chattn.models.resnet_builder import Stage
from keras_chattn.utils import layout

# timm's ImageNet normalisation of every network here (its default_cfg).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
STEMS = ("7x7", "deep", "tiered", "legacy")


@dataclasses.dataclass(frozen=True)
class TimmArchitecture:
    """What one timm name builds (see the module docstring)."""

    block: str  # "basic" or "bottleneck"
    layers: tuple[int, int, int, int]
    stem: str = "7x7"
    avg_down: bool = False
    cardinality: int = 1
    base_width: int = 64
    attention: str | None = None
    attention_kwargs: dict | None = None
    stride_on: str = "3x3"
    legacy: bool = False  # timm's senet.py: its key names and max pool


_resnet = TimmArchitecture  # short, for the table below


D = {"stem": "deep", "avg_down": True}
T = {"stem": "tiered", "avg_down": True}
SE = {"attention": "se", "attention_kwargs": {"min_units": 8}}
ECA = {"attention": "eca"}
X32 = {"cardinality": 32, "base_width": 4}
LEGACY_SE = {
    "stem": "legacy",
    "legacy": True,
    "attention": "se",
    "stride_on": "1x1",
}
LEGACY_SEXT = {**LEGACY_SE, **X32, "stride_on": "3x3"}
# timm's sk_kwargs: rd_ratio 1/8, rd_divisor 16, split_input for the basic
# networks; 1/16, 32 for SK-ResNeXt (min_units gives the divisor's rounding
# at every ResNet width).
SK_BASIC = {
    "attention": "sk",
    "attention_kwargs": {
        "groups": 1,
        "reduction": 8,
        "min_units": 16,
        "split_input": True,
    },
}
SK_NEXT = {
    "attention": "sk",
    "attention_kwargs": {"groups": 32, "reduction": 16, "min_units": 32},
}
# ResNeSt-d: radix 2, cardinality 1, strides by average pooling after the
# split attention (avd), deep stem, average-pool shortcuts.
SPLAT = {"attention": "splat", **D}
R14 = (1, 1, 1, 1)
R18, R26, R34 = (2, 2, 2, 2), (2, 2, 2, 2), (3, 4, 6, 3)
R50, R101, R152 = (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3)

TIMM_ARCHITECTURES = {
    "resnet18": _resnet("basic", R18),
    "resnet18d": _resnet("basic", R18, **D),
    "resnet26": _resnet("bottleneck", R26),
    "resnet26d": _resnet("bottleneck", R26, **D),
    "resnet34": _resnet("basic", R34),
    "resnet34d": _resnet("basic", R34, **D),
    "resnet50": _resnet("bottleneck", R50),
    "resnet50d": _resnet("bottleneck", R50, **D),
    "resnet101": _resnet("bottleneck", R101),
    "resnet101d": _resnet("bottleneck", R101, **D),
    "resnet152": _resnet("bottleneck", R152),
    "resnet152d": _resnet("bottleneck", R152, **D),
    "seresnet50": _resnet("bottleneck", R50, **SE),
    "seresnet152d": _resnet("bottleneck", R152, **D, **SE),
    "seresnext26d_32x4d": _resnet("bottleneck", R26, **D, **SE, **X32),
    "seresnext26t_32x4d": _resnet("bottleneck", R26, **T, **SE, **X32),
    "seresnext50_32x4d": _resnet("bottleneck", R50, **SE, **X32),
    "seresnext101_32x4d": _resnet("bottleneck", R101, **SE, **X32),
    "legacy_seresnet18": _resnet("basic", R18, **LEGACY_SE),
    "legacy_seresnet34": _resnet("basic", R34, **LEGACY_SE),
    "legacy_seresnet50": _resnet("bottleneck", R50, **LEGACY_SE),
    "legacy_seresnet101": _resnet("bottleneck", R101, **LEGACY_SE),
    "legacy_seresnet152": _resnet("bottleneck", R152, **LEGACY_SE),
    "legacy_seresnext26_32x4d": _resnet("bottleneck", R26, **LEGACY_SEXT),
    "legacy_seresnext50_32x4d": _resnet("bottleneck", R50, **LEGACY_SEXT),
    "legacy_seresnext101_32x4d": _resnet("bottleneck", R101, **LEGACY_SEXT),
    "ecaresnet26t": _resnet("bottleneck", R26, **T, **ECA),
    "ecaresnet50d": _resnet("bottleneck", R50, **D, **ECA),
    "ecaresnet50t": _resnet("bottleneck", R50, **T, **ECA),
    "ecaresnet101d": _resnet("bottleneck", R101, **D, **ECA),
    "ecaresnet269d": _resnet("bottleneck", (3, 30, 48, 8), **D, **ECA),
    "skresnet18": _resnet("basic", R18, **SK_BASIC),
    "skresnet34": _resnet("basic", R34, **SK_BASIC),
    "skresnext50_32x4d": _resnet("bottleneck", R50, **SK_NEXT, **X32),
    "resnest14d": _resnet("bottleneck", R14, **SPLAT),
    "resnest26d": _resnet("bottleneck", R26, **SPLAT),
    "resnest50d": _resnet("bottleneck", R50, **SPLAT),
}


def architecture(name: str) -> TimmArchitecture:
    """The architecture of a timm name (a pretrained tag after a dot, as
    in "seresnet50.a1_in1k", is ignored); refuses names it does not know,
    listing those it does."""
    return TIMM_ARCHITECTURES[base_name(name)]


def base_name(name: str) -> str:
    """The architecture part of a timm name ("seresnet50" of
    "seresnet50.a1_in1k"), refusing names `TIMM_ARCHITECTURES` lacks."""
    if not isinstance(name, str):
        raise ValueError(
            f"name must be a timm architecture name (str). Received: "
            f"name={name!r}"
        )
    base = name.split(".", 1)[0].strip().lower()
    if base not in TIMM_ARCHITECTURES:
        raise ValueError(
            f"name must be one of the timm networks keras_chattn builds: "
            f"{sorted(TIMM_ARCHITECTURES)} (with an optional pretrained tag "
            f"after a dot). Received: name={name!r}"
        )
    return base


def _stem(kind, conv_style):
    def stem(x, _, conv_outputs):
        relu = keras.layers.Activation
        if kind in ("deep", "tiered"):
            widths = (32, 32) if kind == "deep" else (24, 32)
            x = conv_style.conv_bn(x, widths[0], 3, 2, "stem1")
            x = relu("relu", name="stem1_relu")(x)
            x = conv_style.conv_bn(x, widths[1], 3, 1, "stem2")
            x = relu("relu", name="stem2_relu")(x)
            x = conv_style.conv_bn(x, 64, 3, 1, "conv1")
        else:
            x = conv_style.conv_bn(x, 64, 7, 2, "conv1")
        x = relu("relu", name="conv1_relu")(x)
        conv_outputs.append(x)
        data_format = layout.image_data_format()
        if kind == "legacy":
            # MaxPool2d(3, 2, ceil_mode=True): one more row and column at
            # the end (zeros after a ReLU change no maximum).
            padding = ((0, 1), (0, 1))
            x = keras.layers.ZeroPadding2D(
                padding, data_format=data_format, name="pool1_pad"
            )(x)
        else:  # MaxPool2d(3, 2, padding=1)
            x = pad_both_sides(x, 1, "pool1_pad")
        return keras.layers.MaxPooling2D(
            3, 2, data_format=data_format, name="pool1_pool"
        )(x)

    return stem


def _bottleneck(arch):
    def block(x, filters, **kwargs):
        width = (filters * arch.base_width // 64) * arch.cardinality
        return apply_bottleneck_block(
            x,
            filters,
            stride_on=arch.stride_on,
            width=width,
            groups=arch.cardinality,
            **kwargs,
        )

    return block


def timm_resnet(
    name: str,
    include_top: bool = True,
    classes: int = 1000,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classifier_activation: str | None = "softmax",
    include_preprocessing: bool = False,
) -> keras.Model:
    """The timm network `name` as a keras_chattn model, random weights.

    Args:
        name: a name of `TIMM_ARCHITECTURES` (an optional pretrained tag
            after a dot is ignored).
        include_top: the classifier (`predictions`) on top.
        classes: its classes. Defaults to 1000 (ImageNet's).
        input_shape: channels_last image shape; height and width may be
            None. Defaults to (None, None, 3).
        pooling: without the top, None, "avg" or "max" (keras.applications').
        classifier_activation: of `predictions`; None for logits.
        include_preprocessing: take images of 0-255 and normalise them with
            timm's ImageNet mean and std (a `Normalization` layer).

    Example:

        >>> import numpy as np
        >>> from keras_chattn.models import timm_resnet
        >>> model = timm_resnet("seresnet50", input_shape=(64, 64, 3))
        >>> sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        28088024
    """
    arch = architecture(name)
    style = ConvStyle(
        conv_bias=False,
        kernel_initializer="he_normal",
        batchnorm_momentum=0.9,
        batchnorm_epsilon=1e-5,
        symmetric_padding=True,
    )
    bottleneck = arch.block == "bottleneck"
    downsample = "avg" if arch.avg_down else "conv"
    # The first stage keeps the size: a shortcut only where the width grows.
    first_shortcut = downsample if bottleneck else "identity"
    stages = [
        Stage(
            f"conv{index + 2}",
            64 * 2**index,
            blocks,
            stride=1 if index == 0 else 2,
            shortcut=first_shortcut if index == 0 else downsample,
        )
        for index, blocks in enumerate(arch.layers)
    ]
    if bottleneck:
        block = _bottleneck(arch)
    else:  # the legacy SE-ResNet-18/34 add a ReLU before SE
        block = functools.partial(
            apply_basic_block, relu_before_attention=arch.legacy
        )
    input_tensor = None
    if include_preprocessing:
        images = keras.Input(input_shape or (None, None, 3), name="images")
        input_tensor = keras.layers.Normalization(
            mean=[255.0 * m for m in IMAGENET_MEAN],
            variance=[(255.0 * s) ** 2 for s in IMAGENET_STD],
            name="preprocessing",
        )(images)
    return ResNet(
        stages,
        block,
        stem=_stem(arch.stem, style),
        include_top=include_top,
        input_tensor=input_tensor,
        input_shape=input_shape or (None, None, 3),
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=arch.attention,
        attention_kwargs=arch.attention_kwargs,
        conv_style=style,
        name=base_name(name),
    )


def preprocessing(name: str) -> dict[str, Any]:
    """What the timm network `name` expects: `mean` and `std` of images
    scaled to [0, 1] and the `input_size` (height, width, channels) of
    its ImageNet weights' default configuration.

    Example:

        >>> from keras_chattn.models import timm_preprocessing
        >>> timm_preprocessing("seresnet50")["mean"]
        (0.485, 0.456, 0.406)
    """
    architecture(name)
    return {
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "input_size": (224, 224, 3),
    }
