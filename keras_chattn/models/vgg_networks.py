"""VGG-16 and VGG-19 with an attention block after every convolution.

Reference: Simonyan and Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015. Layer names and weight shapes
follow `keras.applications.VGG16/VGG19`, so their weights load unchanged.
"""

import keras

from keras_chattn.models import heads
from keras_chattn.models import inputs as model_inputs
from keras_chattn.models import placement
from keras_chattn.models import weights as model_weights
from keras_chattn.models.named_depths import named_depth
from keras_chattn.models.plain_blocks import apply_plain_stage
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import PathLike

_CONVS_PER_BLOCK = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
_BLOCK_FILTERS = (64, 128, 256, 512, 512)


def vgg(
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
    attention_every: EveryArg = 1,
    head: str = "gap",
    conv_bias: bool = True,
    name: str | None = None,
) -> keras.Model:
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
        attention_kwargs: keyword arguments of every attention block, or
            a list with one dict (or None) per stage.
        attention_every: a block after every k-th convolution of a
            stage (counting the first), or one k per stage.
        head: "gap" (the network's own Flatten top), "bridge"
            (`CrossLayerPooling`, named `bridge_pool`, over the output of
            every convolution, in place of the Flatten: the enhanced
            channel-wise attention report's network-level bridge) or
            "bridge_stages" (the same over every stage's pooled output).
        conv_bias: biases in the convolutions (the paper and
            keras.applications: True).
        name: model name; defaults to "vgg16" / "vgg19".

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.VGG16(
        ...     include_top=False, input_shape=(32, 32, 3), attention="se"
        ... )
        >>> type(model.get_layer("block1_conv1_attention")).__name__
        'SqueezeExcite'
    """
    if (
        not isinstance(depth, int)
        or isinstance(depth, bool)
        or (depth not in _CONVS_PER_BLOCK)
    ):
        raise ValueError(f"depth must be 16 or 19. Received: depth={depth!r}")
    name = name or f"vgg{depth}"
    validation.boolean("conv_bias", conv_bias)
    top = heads.Top.checked(
        include_top, pooling, classes, classifier_activation, head
    )
    model_weights.check_weights(weights, name, True, include_top, classes)
    inputs = model_inputs.model_input(
        input_tensor, input_shape, (224, 224, 3), min_size=32, model_name=name
    )
    heads.check_flatten_size(inputs, top, name)
    specs = placement.resolve_attention(
        attention,
        attention_kwargs,
        5,
        scale="imagenet",
        every=attention_every,
    )
    x = inputs
    stage_outputs = []
    conv_outputs = []
    for block, (filters, convs, spec) in enumerate(
        zip(_BLOCK_FILTERS, _CONVS_PER_BLOCK[depth], specs, strict=True),
        start=1,
    ):
        x = apply_plain_stage(
            x,
            filters,
            convs,
            attention=spec,
            name=f"block{block}",
            first_stage=block == 1,
            conv_outputs=conv_outputs,
            conv_bias=conv_bias,
        )
        x = placement.end_stage(x, spec, f"block{block}", last=block == 5)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(
            x
        )
        stage_outputs.append(x)
    x = placement.end_network(x, specs[-1])
    x = top.apply(x, stage_outputs, conv_outputs, hidden_units=(4096, 4096))
    model = heads.make_model(input_tensor, inputs, x, name)
    return model_weights.load_weights(
        model,
        weights,
        getattr(keras.applications, f"VGG{depth}"),
        f"vgg{depth}",
        include_top,
        input_shape=tuple(inputs.shape[1:]),
    )


VGG16 = named_depth(vgg, 16, "VGG16", "VGG-16 (ImageNet weights).")
"""VGG-16: `vgg(16, ...)` (ImageNet weights: keras.applications)."""
VGG19 = named_depth(vgg, 19, "VGG19", "VGG-19 (ImageNet weights).")
"""VGG-19: `vgg(19, ...)` (ImageNet weights: keras.applications)."""
