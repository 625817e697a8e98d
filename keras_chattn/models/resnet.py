"""ResNet-18/34/50/101/152 with an attention block in every residual block.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016. Layer names and weight shapes follow
`keras.applications.ResNet50/101/152`, so their weights load unchanged.
"""

import keras

from keras_chattn.models import blocks
from keras_chattn.models import common
from keras_chattn.utils import validation

STEMS = ("imagenet", "cifar")

# name: (block kind, blocks per stage, keras.applications constructor)
_CONFIGS = {
    "resnet18": ("basic", (2, 2, 2, 2), None),
    "resnet34": ("basic", (3, 4, 6, 3), None),
    "resnet50": ("bottleneck", (3, 4, 6, 3), "ResNet50"),
    "resnet101": ("bottleneck", (3, 4, 23, 3), "ResNet101"),
    "resnet152": ("bottleneck", (3, 8, 36, 3), "ResNet152"),
}
_STAGE_FILTERS = (64, 128, 256, 512)


def _stem(x, stem, conv_bias, conv_outputs):
    """The stem; its convolution's output (after ReLU) joins `conv_outputs`."""
    if stem == "cifar":
        x = keras.layers.Activation("relu", name="conv1_relu")(
            blocks.conv_bn(x, 64, 3, 1, conv_bias, "conv1")
        )
        conv_outputs.append(x)
        return x
    x = keras.layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(
        x
    )
    x = keras.layers.Conv2D(
        64, 7, strides=2, use_bias=conv_bias, name="conv1_conv"
    )(x)
    x = keras.layers.BatchNormalization(
        axis=common.bn_axis(), epsilon=1.001e-5, name="conv1_bn"
    )(x)
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    conv_outputs.append(x)
    x = keras.layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(
        x
    )
    return keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def resnet(
    depth,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    attention=None,
    attention_kwargs=None,
    stem="imagenet",
    conv_bias=True,
    head="gap",
    name=None,
):
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

    Example:

    >>> import keras_chattn
    >>> model = keras_chattn.models.ResNet18(
    ...     input_shape=(32, 32, 3), stem="cifar", classes=10, attention="se"
    ... )
    >>> type(model.get_layer("conv3_block1_attention")).__name__
    'SqueezeExcite'
    """
    key = f"resnet{depth}"
    if key not in _CONFIGS:
        raise ValueError(
            "depth must be one of [18, 34, 50, 101, 152]. "
            f"Received: depth={depth!r}"
        )
    kind, stage_blocks, application = _CONFIGS[key]
    validation.choice("stem", stem, STEMS)
    validation.boolean("conv_bias", conv_bias)
    name = name or key
    common.check_common_arguments(
        weights, include_top, classes, pooling, name, application is not None
    )
    common.check_head(head, include_top, pooling)
    cifar = stem == "cifar"
    inputs = common.model_input(
        input_tensor,
        input_shape,
        default_size=(32, 32, 3) if cifar else (224, 224, 3),
        min_size=8 if cifar else 32,
        model_name=name,
    )
    factories = common.stage_attention(attention, len(stage_blocks))

    scale = "cifar" if cifar else "imagenet"
    conv_outputs = []
    x = _stem(inputs, stem, conv_bias, conv_outputs)
    stage_outputs = []
    for stage, (filters, count, factory) in enumerate(
        zip(_STAGE_FILTERS, stage_blocks, factories, strict=True), start=2
    ):
        prefix = f"conv{stage}"
        x = common.attend(
            x,
            factory,
            attention_kwargs,
            "stage_input",
            f"{prefix}_attention",
            scale,
        )
        for index in range(1, count + 1):
            first = index == 1
            stride = 2 if first and stage > 2 else 1
            block_name = f"{prefix}_block{index}"
            if kind == "bottleneck":
                x = blocks.apply_bottleneck_block(
                    x,
                    filters,
                    stride=stride,
                    conv_shortcut=first,
                    conv_bias=conv_bias,
                    attention=factory,
                    attention_kwargs=attention_kwargs,
                    scale=scale,
                    name=block_name,
                    conv_outputs=conv_outputs,
                )
            else:
                x = blocks.apply_basic_block(
                    x,
                    filters,
                    stride=stride,
                    shortcut="conv" if first and stage > 2 else "identity",
                    conv_bias=conv_bias,
                    attention=factory,
                    attention_kwargs=attention_kwargs,
                    scale=scale,
                    name=block_name,
                    conv_outputs=conv_outputs,
                )
        stage_outputs.append(x)
    outputs = common.apply_pooling_or_top(
        x,
        include_top,
        pooling,
        classes,
        classifier_activation,
        head,
        stage_outputs,
        conv_outputs,
    )
    model = common.make_model(input_tensor, inputs, outputs, name)
    return common.load_weights(
        model,
        weights,
        application and getattr(keras.applications, application),
        key,
        include_top,
        input_shape=tuple(inputs.shape[1:]),
    )


ResNet18 = common.variant(resnet, "depth", 18, "ResNet18", "ResNet-18")
ResNet34 = common.variant(resnet, "depth", 34, "ResNet34", "ResNet-34")
ResNet50 = common.variant(resnet, "depth", 50, "ResNet50", "ResNet-50")
ResNet101 = common.variant(resnet, "depth", 101, "ResNet101", "ResNet-101")
ResNet152 = common.variant(resnet, "depth", 152, "ResNet152", "ResNet-152")
