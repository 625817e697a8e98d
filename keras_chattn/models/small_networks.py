"""The VGG-like test networks of the Contextual Convolution Block paper.

Reference: Marwood and Baluja, "Contextual Convolution Blocks", Google
Research, Table 1 and section 3: MNIST [Conv2D(3x3, relu), MaxPool(4x4)] x2
with channels quadrupling; CIFAR-10 [Conv2D(3x3, relu), MaxPool(2x2)] x4 and
CIFAR-100 [Conv2D(3x3, relu), Conv2D(3x3, relu), MaxPool(2x2)] x4 with
channels doubling after each pool; head FC(128, relu), FC(classes, softmax)
on the flattened last map; the attention block after every Conv2D.
"""

import keras

from keras_chattn.models import heads
from keras_chattn.models import inputs as model_inputs
from keras_chattn.models import placement
from keras_chattn.models import weights as model_weights
from keras_chattn.models.plain_blocks import apply_plain_stage
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import PathLike

# dataset: (input shape, classes, stages, convs per stage, pool, growth)
_CONFIGS = {
    "mnist": ((28, 28, 1), 10, 2, 1, 4, 4),
    "cifar10": ((32, 32, 3), 10, 4, 1, 2, 2),
    "cifar100": ((32, 32, 3), 100, 4, 2, 2, 2),
}


def small_cnn_stages(dataset: str = "cifar10") -> int:
    """How many stages `small_cnn(dataset)` has (one per pool)."""
    validation.choice("dataset", dataset, tuple(_CONFIGS))
    return _CONFIGS[dataset][2]


def small_cnn(
    dataset: str = "cifar10",
    base_width: int = 32,
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int | None = None,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: AttentionKwargs = None,
    attention_every: EveryArg = 1,
    head: str = "gap",
    conv_bias: bool = True,
    name: str | None = None,
) -> keras.Model:
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
        attention_kwargs: keyword arguments of every attention block, or
            a list with one dict (or None) per stage.
        attention_every: a block after every k-th convolution of a
            stage (counting the first), or one k per stage.
        head: "gap" (the network's own Flatten top), "bridge"
            (`CrossLayerPooling`, named `bridge_pool`, over the output of
            every convolution, in place of the Flatten: the enhanced
            channel-wise attention report's network-level bridge) or
            "bridge_stages" (the same over every stage's pooled output).
        conv_bias: biases in the convolutions. Defaults to True.
        name: model name; defaults to e.g. "small_cnn_cifar100".

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.small_cnn("cifar100", base_width=32)
        >>> model.count_params()
        1316356
    """
    validation.choice("dataset", dataset, tuple(_CONFIGS))
    base_width = validation.positive_int(
        "base_width", base_width, validation.MAX_WIDTH
    )
    shape, default_classes, stages, convs, pool, growth = _CONFIGS[dataset]
    classes = default_classes if classes is None else classes
    name = name or f"small_cnn_{dataset}"
    validation.boolean("conv_bias", conv_bias)
    top = heads.Top.checked(
        include_top, pooling, classes, classifier_activation, head
    )
    model_weights.check_weights(weights, name, False, include_top, classes)
    inputs = model_inputs.model_input(
        input_tensor, input_shape, shape, pool**stages, model_name=name
    )
    heads.check_flatten_size(inputs, top, name)
    specs = placement.resolve_attention(
        attention,
        attention_kwargs,
        stages,
        scale="cifar",
        every=attention_every,
    )
    x = inputs
    stage_outputs = []
    conv_outputs = []
    for stage, spec in enumerate(specs, start=1):
        x = apply_plain_stage(
            x,
            base_width * growth ** (stage - 1),
            convs,
            attention=spec,
            name=f"block{stage}",
            first_stage=stage == 1,
            conv_outputs=conv_outputs,
            conv_bias=conv_bias,
        )
        last = stage == len(specs)
        x = placement.end_stage(x, spec, f"block{stage}", last=last)
        x = keras.layers.MaxPooling2D(
            pool, strides=pool, padding="same", name=f"block{stage}_pool"
        )(x)
        stage_outputs.append(x)
    x = placement.end_network(x, specs[-1])
    x = top.apply(x, stage_outputs, conv_outputs, hidden_units=(128,))
    model = heads.make_model(input_tensor, inputs, x, name)
    return model_weights.load_weights(model, weights, None, None, include_top)
