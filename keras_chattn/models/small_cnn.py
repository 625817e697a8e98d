"""The VGG-like test networks of the Contextual Convolution Block paper.

Reference: Marwood and Baluja, "Contextual Convolution Blocks", Google
Research, Table 1 and section 3: MNIST [Conv2D(3x3, relu), MaxPool(4x4)] x2
with channels quadrupling; CIFAR-10 [Conv2D(3x3, relu), MaxPool(2x2)] x4 and
CIFAR-100 [Conv2D(3x3, relu), Conv2D(3x3, relu), MaxPool(2x2)] x4 with
channels doubling after each pool; head FC(128, relu), FC(classes, softmax)
on the flattened last map; the attention block after every Conv2D.
"""

import keras

from keras_chattn.models import common
from keras_chattn.models.vgg import apply_plain_stage
from keras_chattn.utils import validation

# dataset: (input shape, classes, stages, convs per stage, pool, growth)
_CONFIGS = {
    "mnist": ((28, 28, 1), 10, 2, 1, 4, 4),
    "cifar10": ((32, 32, 3), 10, 4, 1, 2, 2),
    "cifar100": ((32, 32, 3), 100, 4, 2, 2, 2),
}


def small_cnn(
    dataset="cifar10",
    base_width=32,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=None,
    classifier_activation="softmax",
    attention=None,
    attention_kwargs=None,
    head="gap",
    name=None,
):
    """Builds the CC-block paper's Table 1 network for `dataset`.

    Convolutions use "same" padding and max-pools "same" padding, which gives
    the paper's final maps: (2, 2, 16 * base_width) for MNIST (28 -> 7 -> 2)
    and (2, 2, 8 * base_width) for CIFAR (32 -> 2).

    Placement: the attention block follows every Conv2D (after its ReLU),
    `block{s}_conv{i}_attention`; a block whose `placement` is
    `"stage_input"` goes once before each stage (`block{s}_attention`),
    except the first, where it follows `block1_conv1` (never on the image).

    Args:
        dataset: "mnist", "cifar10" or "cifar100".
        base_width: channels of the first Conv2D (the paper: 1 ... 48).
        include_top: Flatten, `fc1` (128, ReLU) and `predictions`.
        weights: None or the path of a weights file for this model.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: defaults to the dataset's image shape.
        pooling: with `include_top=False`: None, "avg" or "max".
        classes: defaults to the dataset's class count.
        classifier_activation: activation of `predictions` (None: logits).
        attention: None, a registry name, a Layer class, a callable returning
            a layer, or a list with one entry per stage.
        attention_kwargs: keyword arguments for every attention block.
        head: "gap" (the network's own Flatten top), "bridge"
            (`CrossLayerPooling`, named `bridge_pool`, over the output of
            every convolution, in place of the Flatten: the enhanced
            channel-wise attention report's network-level bridge) or
            "bridge_stages" (the same over every stage's pooled output).
        name: model name; defaults to e.g. "small_cnn_cifar100".

    Returns:
        A functional `keras.Model`.

    Example:

    >>> import keras_chattn
    >>> keras_chattn.models.small_cnn("cifar100", base_width=32).count_params()
    1316356
    """
    validation.choice("dataset", dataset, tuple(_CONFIGS))
    base_width = validation.positive_int("base_width", base_width)
    shape, default_classes, stages, convs, pool, growth = _CONFIGS[dataset]
    classes = default_classes if classes is None else classes
    name = name or f"small_cnn_{dataset}"
    common.check_head(head, include_top, pooling)
    common.check_common_arguments(
        weights, include_top, classes, pooling, name, has_imagenet=False
    )
    inputs = common.model_input(
        input_tensor, input_shape, shape, pool**stages, model_name=name
    )
    if include_top and head == "gap" and None in tuple(inputs.shape[1:]):
        raise ValueError(
            f"{name} with include_top=True flattens its last feature map, so "
            "height and width must be known. Received: input_shape="
            f"{tuple(inputs.shape[1:])}; pass include_top=False for any size."
        )
    factories = common.stage_attention(attention, stages)
    x = inputs
    stage_outputs = []
    conv_outputs = []
    for stage, factory in enumerate(factories, start=1):
        filters = base_width * growth ** (stage - 1)
        x = apply_plain_stage(
            x,
            filters,
            convs,
            factory,
            attention_kwargs,
            "cifar",
            f"block{stage}",
            first_stage=stage == 1,
            conv_outputs=conv_outputs,
        )
        x = keras.layers.MaxPooling2D(
            pool, strides=pool, padding="same", name=f"block{stage}_pool"
        )(x)
        stage_outputs.append(x)
    if head in common.BRIDGE_HEADS:
        x = common.bridge_pooling(head, conv_outputs, stage_outputs)
    if include_top:
        if head == "gap":
            x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(128, activation="relu", name="fc1")(x)
        x = common.classifier(x, classes, classifier_activation)
    elif head == "gap":
        x = common.feature_pooling(x, pooling)
    model = common.make_model(input_tensor, inputs, x, name)
    return common.load_weights(model, weights, None, None, include_top)
