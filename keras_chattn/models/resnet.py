"""ResNet-18/34/50/101/152 with an attention block in every residual block.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016. Layer names and weight shapes follow
`keras.applications.ResNet50/101/152`, so their weights load unchanged.
"""

from typing import Any

import keras

from keras_chattn.models import heads
from keras_chattn.models import inputs as model_inputs
from keras_chattn.models import placement
from keras_chattn.models import weights as model_weights
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.models.residual_blocks import apply_bottleneck_block
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import PathLike

STEMS = ("imagenet", "cifar")

# name: (block helper, blocks per stage, keras.applications constructor)
_CONFIGS = {
    "resnet18": (apply_basic_block, (2, 2, 2, 2), None),
    "resnet34": (apply_basic_block, (3, 4, 6, 3), None),
    "resnet50": (apply_bottleneck_block, (3, 4, 6, 3), "ResNet50"),
    "resnet101": (apply_bottleneck_block, (3, 4, 23, 3), "ResNet101"),
    "resnet152": (apply_bottleneck_block, (3, 8, 36, 3), "ResNet152"),
}
_STAGE_FILTERS = (64, 128, 256, 512)


def _stem(x, stem, conv_style, conv_outputs):
    """The stem; its convolution's output (after ReLU) joins `conv_outputs`."""
    if stem == "cifar":
        x = conv_style.conv_bn(x, 64, 3, 1, "conv1")
        x = keras.layers.Activation("relu", name="conv1_relu")(x)
        conv_outputs.append(x)
        return x
    x = keras.layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(
        x
    )
    x = keras.layers.Conv2D(
        64, 7, strides=2, use_bias=conv_style.conv_bias, name="conv1_conv"
    )(x)
    x = conv_style.batchnorm(x, "conv1_bn")
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    conv_outputs.append(x)
    x = keras.layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(
        x
    )
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


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
    attention_kwargs: dict[str, Any] | None = None,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """Builds an ImageNet-style ResNet of the given depth (18 ... 152).

    Placement: each residual block gets its attention block on the residual
    branch after the last BatchNorm and before the addition
    (`conv{stage}_block{i}_attention`); a block class whose `placement` is
    `"stage_input"` is put once at the input of each stage instead
    (`conv{stage}_attention`).

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
        attention_kwargs: keyword arguments for every attention block.
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
    key = f"resnet{depth}"
    if (
        isinstance(depth, bool)
        or not isinstance(depth, int)
        or (key not in _CONFIGS)
    ):
        raise ValueError(
            "depth must be one of [18, 34, 50, 101, 152] (an int). "
            f"Received: depth={depth!r}"
        )
    apply_block, stage_blocks, application = _CONFIGS[key]
    validation.choice("stem", stem, STEMS)
    conv_style = ConvStyle.checked(conv_bias=conv_bias)
    name = name or key
    model_weights.check_weights(
        weights, name, application is not None, include_top, classes
    )
    top = heads.Top.checked(
        include_top, pooling, classes, classifier_activation, head
    )
    cifar = stem == "cifar"
    inputs = model_inputs.model_input(
        input_tensor,
        input_shape,
        default_size=(32, 32, 3) if cifar else (224, 224, 3),
        min_size=8 if cifar else 32,
        model_name=name,
    )
    specs = placement.resolve_attention(
        attention,
        attention_kwargs,
        len(stage_blocks),
        scale="cifar" if cifar else "imagenet",
    )
    bottleneck = apply_block is apply_bottleneck_block
    conv_outputs = []
    x = _stem(inputs, stem, conv_style, conv_outputs)
    stage_outputs = []
    for stage, (filters, count, spec) in enumerate(
        zip(_STAGE_FILTERS, stage_blocks, specs, strict=True), start=2
    ):
        prefix = f"conv{stage}"
        if placement.goes(spec, "stage_input"):
            x = spec.apply(x, f"{prefix}_attention")
        for index in range(1, count + 1):
            first = index == 1
            # keras.applications projects at every stage's first bottleneck
            # block; the basic blocks only where the shape changes.
            projects = first and (bottleneck or stage > 2)
            x = apply_block(
                x,
                filters,
                stride=2 if first and stage > 2 else 1,
                shortcut="conv" if projects else "identity",
                conv_style=conv_style,
                attention=spec,
                name=f"{prefix}_block{index}",
                conv_outputs=conv_outputs,
            )
        x = placement.end_stage(x, spec, prefix, last=stage == 5)
        stage_outputs.append(x)
    x = placement.end_network(x, specs[-1])
    outputs = top.apply(x, stage_outputs, conv_outputs)
    model = heads.make_model(input_tensor, inputs, outputs, name)
    return model_weights.load_weights(
        model,
        weights,
        application and getattr(keras.applications, application),
        key,
        include_top,
        input_shape=tuple(inputs.shape[1:]),
    )


def ResNet18(
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """ResNet-18: `resnet(18, ...)`, without ImageNet weights.

    See `resnet` for every argument.
    """
    return resnet(
        18,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        stem=stem,
        conv_bias=conv_bias,
        head=head,
        name=name,
    )


def ResNet34(
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """ResNet-34: `resnet(34, ...)`, without ImageNet weights.

    See `resnet` for every argument.
    """
    return resnet(
        34,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        stem=stem,
        conv_bias=conv_bias,
        head=head,
        name=name,
    )


def ResNet50(
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """ResNet-50: `resnet(50, ...)` (ImageNet weights: keras.applications).

    See `resnet` for every argument.
    """
    return resnet(
        50,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        stem=stem,
        conv_bias=conv_bias,
        head=head,
        name=name,
    )


def ResNet101(
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """ResNet-101: `resnet(101, ...)` (ImageNet weights: keras.applications).

    See `resnet` for every argument.
    """
    return resnet(
        101,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        stem=stem,
        conv_bias=conv_bias,
        head=head,
        name=name,
    )


def ResNet152(
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    stem: str = "imagenet",
    conv_bias: bool = True,
    head: str = "gap",
    name: str | None = None,
) -> keras.Model:
    """ResNet-152: `resnet(152, ...)` (ImageNet weights: keras.applications).

    See `resnet` for every argument.
    """
    return resnet(
        152,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        stem=stem,
        conv_bias=conv_bias,
        head=head,
        name=name,
    )
