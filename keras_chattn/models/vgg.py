"""VGG-16 and VGG-19 with an attention block after every convolution.

Reference: Simonyan and Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015. Layer names and weight shapes
follow `keras.applications.VGG16/VGG19`, so their weights load unchanged.
"""

import keras

from keras_chattn.models import common

_CONVS_PER_BLOCK = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
_BLOCK_FILTERS = (64, 128, 256, 512, 512)


def apply_plain_stage(
    x,
    filters,
    convs,
    factory,
    attention_kwargs,
    scale,
    name,
    first_stage=False,
    conv_outputs=None,
):
    """`convs` 3x3 ReLU convolutions, each followed by its attention block.

    A block whose placement is `"stage_input"` goes once before the stage
    (`{name}_attention`) instead, except in the network's first stage
    (`first_stage=True`), where the stage input is the image itself: there
    it goes after the first convolution (the C3 reference places it after
    the stem, never on pixels, whose negative values its output ReLU would
    delete). A block that `needs_intermediate_features` (BA-Net) goes once
    after the stage's last conv and bridges all its convs. `scale`
    ("imagenet" or "cifar") goes to the block's `position_kwargs`. Each
    convolution's output (after its ReLU) is appended to `conv_outputs`
    when a list is given (for `head="bridge"`).
    """
    stage_input_name = f"{name}_attention"
    if not first_stage:
        x = common.attend(
            x, factory, attention_kwargs, "stage_input", stage_input_name, scale
        )
    bridge = common.needs_features(factory)
    outputs = []
    for index in range(1, convs + 1):
        conv_name = f"{name}_conv{index}"
        x = keras.layers.Conv2D(
            filters, 3, activation="relu", padding="same", name=conv_name
        )(x)
        outputs.append(x)
        if first_stage and index == 1:
            x = common.attend(
                x,
                factory,
                attention_kwargs,
                "stage_input",
                stage_input_name,
                scale,
            )
        if bridge and index < convs:
            continue  # a bridging block waits for the stage's last conv
        x = common.attend(
            x,
            factory,
            attention_kwargs,
            "branch",
            f"{conv_name}_attention",
            scale,
            features=outputs,
        )
    if conv_outputs is not None:
        conv_outputs.extend(outputs)
    return x


def vgg(
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
    head="gap",
    name=None,
):
    """Builds VGG-16 or VGG-19.

    Placement: the attention block follows every convolution (after its
    ReLU), `block{b}_conv{i}_attention`, the CC-block paper's rule for plain
    networks; a block whose `placement` is `"stage_input"` goes once before
    each of the five blocks (`block{b}_attention`), except the first, where
    it follows `block1_conv1` (never on the image).

    Args:
        depth: 16 or 19.
        include_top: Flatten, `fc1`, `fc2` (4096, ReLU) and `predictions`.
            The Flatten needs a fixed input size.
        weights: None, "imagenet" (keras.applications' weights, loaded by
            layer name) or the path of a weights file for this model.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: defaults to (224, 224, 3); at least 32x32.
        pooling: with `include_top=False`: None, "avg" or "max".
        classes: classifier width.
        classifier_activation: activation of `predictions` (None: logits).
        attention: None, a registry name, a Layer class, a callable returning
            a layer, or a list with one entry per block (5 blocks).
        attention_kwargs: keyword arguments for every attention block.
        head: "gap" (the network's own Flatten top), "bridge"
            (`CrossLayerPooling`, named `bridge_pool`, over the output of
            every convolution, in place of the Flatten: the enhanced
            channel-wise attention report's network-level bridge) or
            "bridge_stages" (the same over every stage's pooled output).
        name: model name; defaults to "vgg16" / "vgg19".

    Returns:
        A functional `keras.Model`.

    Example:

    >>> import keras_chattn
    >>> model = keras_chattn.models.VGG16(
    ...     include_top=False, input_shape=(32, 32, 3), attention="se"
    ... )
    >>> type(model.get_layer("block1_conv1_attention")).__name__
    'SqueezeExcite'
    """
    if depth not in _CONVS_PER_BLOCK:
        raise ValueError(f"depth must be 16 or 19. Received: depth={depth!r}")
    name = name or f"vgg{depth}"
    common.check_head(head, include_top, pooling)
    common.check_common_arguments(
        weights, include_top, classes, pooling, name, has_imagenet=True
    )
    inputs = common.model_input(
        input_tensor, input_shape, (224, 224, 3), min_size=32, model_name=name
    )
    if include_top and head == "gap" and None in tuple(inputs.shape[1:]):
        raise ValueError(
            f"{name} with include_top=True flattens its last feature map, so "
            "height and width must be known. Received: input_shape="
            f"{tuple(inputs.shape[1:])}; pass include_top=False for any size."
        )
    factories = common.stage_attention(attention, 5)
    x = inputs
    stage_outputs = []
    conv_outputs = []
    for block, (filters, convs, factory) in enumerate(
        zip(_BLOCK_FILTERS, _CONVS_PER_BLOCK[depth], factories, strict=True),
        start=1,
    ):
        x = apply_plain_stage(
            x,
            filters,
            convs,
            factory,
            attention_kwargs,
            "imagenet",
            f"block{block}",
            first_stage=block == 1,
            conv_outputs=conv_outputs,
        )
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(
            x
        )
        stage_outputs.append(x)
    if head in common.BRIDGE_HEADS:
        x = common.bridge_pooling(head, conv_outputs, stage_outputs)
    if include_top:
        if head == "gap":
            x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(4096, activation="relu", name="fc1")(x)
        x = keras.layers.Dense(4096, activation="relu", name="fc2")(x)
        x = common.classifier(x, classes, classifier_activation)
    elif head == "gap":
        x = common.feature_pooling(x, pooling)
    model = common.make_model(input_tensor, inputs, x, name)
    return common.load_weights(
        model,
        weights,
        getattr(keras.applications, f"VGG{depth}"),
        f"vgg{depth}",
        include_top,
        input_shape=tuple(inputs.shape[1:]),
    )


VGG16 = common.variant(vgg, "depth", 16, "VGG16", "VGG-16")
VGG19 = common.variant(vgg, "depth", 19, "VGG19", "VGG-19")
