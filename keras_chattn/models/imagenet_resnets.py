"""ResNet-18/34/50/101/152 with an attention block in every residual block.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016. Layer names and weight shapes follow
`keras.applications.ResNet50/101/152`, so their weights load unchanged.
"""

import keras

from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.named_depths import named_depth
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.models.residual_blocks import apply_bottleneck_block
from keras_chattn.models.resnet_builder import ResNet
from keras_chattn.models.resnet_builder import Stage
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import PathLike
from keras_chattn.utils.types import PositionArg

STEMS = ("imagenet", "cifar")

# depth: (block helper, blocks per stage, keras.applications constructor)
DEPTHS = {
    18: (apply_basic_block, (2, 2, 2, 2), None),
    34: (apply_basic_block, (3, 4, 6, 3), None),
    50: (apply_bottleneck_block, (3, 4, 6, 3), "ResNet50"),
    101: (apply_bottleneck_block, (3, 4, 23, 3), "ResNet101"),
    152: (apply_bottleneck_block, (3, 8, 36, 3), "ResNet152"),
}
STAGE_FILTERS = (64, 128, 256, 512)


def imagenet_stem(x, conv_style, conv_outputs):
    """7x7/2 convolution, BatchNorm, ReLU, 3x3/2 max-pool (keras'
    names); the ReLU's output joins `conv_outputs`."""
    x = keras.layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(
        x
    )
    x = conv_style.conv(x, 64, 7, 2, "conv1_conv", padding="valid")
    x = conv_style.batchnorm(x, "conv1_bn")
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    conv_outputs.append(x)
    x = keras.layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(
        x
    )
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def cifar_stem(x, conv_style, conv_outputs, filters=64):
    """3x3/1 convolution, BatchNorm, ReLU (no pooling, for 32x32
    inputs); the ReLU's output joins `conv_outputs`."""
    x = conv_style.conv_bn(x, filters, 3, 1, "conv1")
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    conv_outputs.append(x)
    return x


def resnet(
    depth: int,
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: AttentionKwargs = None,
    attention_position: PositionArg = "standard",
    attention_every: EveryArg = 1,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """Builds an ImageNet-style ResNet of the given depth (18 ... 152).

    Placement: each residual block gets its attention block on the residual
    branch after the last BatchNorm and before the addition
    (`conv{stage}_block{i}_attention`); a block whose placement is
    `"stage_input"` (`keras_chattn.models.block_table`) is put once at the
    input of each stage instead (`conv{stage}_attention`).

    Args:
        depth: 18, 34, 50, 101 or 152.
        include_top: global average pooling and the `predictions` Dense.
        weights: None, "imagenet" (ResNet-50/101/152: keras.applications'
            weights, loaded by layer name; attention blocks stay freshly
            initialised) or the path of a weights file for this model.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: shape without batch; defaults to (224, 224, 3), or
            (32, 32, 3) for `stem="cifar"`. Height and width may be None.
        pooling: with `include_top=False`: None (4-D features), "avg" or
            "max".
        classes: classifier width.
        classifier_activation: activation of `predictions` (None: logits).
        attention: None, a registry name, a Layer class, a callable returning
            a layer, or a list with one such entry per stage (4 stages).
        attention_kwargs: keyword arguments of every block, or one
            dict (or None) per stage.
        attention_position: where in each residual block (see
            `ResNet`), or one per stage.
        attention_every: a block in every k-th residual block of a
            stage, or one k per stage.
        stem: "imagenet" (7x7/2 conv + 3x3/2 max-pool) or "cifar" (3x3/1
            conv, no pooling, for 32x32 inputs).
        conv_bias: biases in the convolutions: True as in keras.applications,
            False as in the papers (and torchvision).
        head: "gap" (global average pooling), "bridge" (the enhanced
            channel-wise attention report's network-level bridge:
            `CrossLayerPooling`, named `bridge_pool`, over the output of
            every convolution of the main path, after its BatchNorm and, where
            the network has one, its ReLU) or "bridge_stages" (the same over
            every stage's output only).
        name: model name; defaults to e.g. "resnet50".

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.ResNet18(
        ...     input_shape=(32, 32, 3), stem="cifar", classes=10,
        ...     attention="se",
        ... )
        >>> type(model.get_layer("conv3_block1_attention")).__name__
        'SqueezeExcite'
    """
    if (
        isinstance(depth, bool)
        or not isinstance(depth, int)
        or (depth not in DEPTHS)
    ):
        raise ValueError(
            f"depth must be one of {sorted(DEPTHS)} (an int). "
            f"Received: depth={depth!r}"
        )
    block, stage_blocks, application = DEPTHS[depth]
    validation.choice("stem", stem, STEMS)
    cifar = stem == "cifar"
    bottleneck = block is apply_bottleneck_block
    stages = [
        Stage(
            f"conv{number}",
            filters,
            blocks,
            stride=2 if number > 2 else 1,
            # keras.applications projects at every stage's first bottleneck
            # block; the basic blocks only where the shape changes.
            shortcut="conv" if bottleneck or number > 2 else "identity",
        )
        for number, filters, blocks in zip(
            (2, 3, 4, 5), STAGE_FILTERS, stage_blocks, strict=True
        )
    ]
    return ResNet(
        stages,
        block,
        cifar_stem if cifar else imagenet_stem,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        attention_position=attention_position,
        attention_every=attention_every,
        conv_style=ConvStyle.checked(conv_bias=conv_bias),
        head=head,
        scale="cifar" if cifar else "imagenet",
        default_input_shape=(32, 32, 3) if cifar else (224, 224, 3),
        min_size=8 if cifar else 32,
        imagenet=application
        and (getattr(keras.applications, application), f"resnet{depth}"),
        name=name or f"resnet{depth}",
    )


ResNet18 = named_depth(resnet, 18, "ResNet18", "ResNet-18.")
"""ResNet-18: `resnet(18, ...)`."""
ResNet34 = named_depth(resnet, 34, "ResNet34", "ResNet-34.")
"""ResNet-34: `resnet(34, ...)`."""
ResNet50 = named_depth(
    resnet, 50, "ResNet50", "ResNet-50 (ImageNet weights: keras.applications)."
)
"""ResNet-50: `resnet(50, ...)` (ImageNet weights: keras.applications)."""
ResNet101 = named_depth(
    resnet,
    101,
    "ResNet101",
    "ResNet-101 (ImageNet weights: keras.applications).",
)
"""ResNet-101: `resnet(101, ...)` (ImageNet weights: keras.applications)."""
ResNet152 = named_depth(
    resnet,
    152,
    "ResNet152",
    "ResNet-152 (ImageNet weights: keras.applications).",
)
"""ResNet-152: `resnet(152, ...)` (ImageNet weights: keras.applications)."""
