"""`ResNet`: the one stage loop every ResNet of the package is built by.

keras.applications' `ResNet(stack_fn, ...)` idea: a network is a stem, a
list of `Stage`s of residual blocks and a top; the ImageNet ResNets, the
CIFAR ResNets (6n + 2), the 1-D time-series ResNet and the 3-D ResNets are
thin functions that say which. The attention hook lives here, once: a
`"stage_input"` block (C3) at each stage's input, the blocks' own places
inside the block helpers, a `"stage_output"` block (BAM) between stages
and a `"head"` block (DANet) after the last.
"""

import dataclasses
from collections.abc import Callable
from collections.abc import Sequence

import keras

from keras_chattn.models import heads
from keras_chattn.models import inputs as model_inputs
from keras_chattn.models import placement
from keras_chattn.models import weights as model_weights
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import PathLike
from keras_chattn.utils.types import PositionArg

# Where a stage's "stage_input" block goes: before the stage (its name
# `{prefix}_attention`), or inside the first block's helper (the 1-D
# ResNet, whose first block sees the raw series).
STAGE_INPUTS = ("stage", "block")


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage: `blocks` residual blocks of `filters`, the first with
    `stride` and `shortcut` (`"identity"`, `"conv"`, `"pad"` or `"bn"`),
    the others at stride 1 with an identity shortcut.

    Blocks are named `{prefix}_block{i}` (keras.applications), or `prefix`
    itself for a stage of one block with `name_blocks=False`.
    """

    prefix: str
    filters: int
    blocks: int = 1
    stride: int | tuple[int, ...] = 1
    shortcut: str = "identity"
    name_blocks: bool = True

    def block_name(self, index):
        return (
            f"{self.prefix}_block{index}" if self.name_blocks else self.prefix
        )


def ResNet(
    stages: Sequence[Stage],
    block: Callable[..., keras.KerasTensor],
    stem: Callable[..., keras.KerasTensor] | None = None,
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
    conv_style: ConvStyle | None = None,
    head: str = "gap",
    scale: str = "imagenet",
    default_input_shape: tuple[int | None, ...] = (224, 224, 3),
    min_size: int = 32,
    stage_input: str = "stage",
    imagenet: tuple[Callable[..., keras.Model], str] | None = None,
    name: str = "resnet",
) -> keras.Model:
    """A ResNet from its stem, stages and block helper, with attention.

    Args:
        stages: the `Stage`s, in order.
        block: the block helper, called as `block(x, filters, stride=,
            shortcut=, conv_style=, attention=, name=, conv_outputs=)`
            (`apply_basic_block`, `apply_bottleneck_block`, ...).
        stem: optional `stem(x, conv_style, conv_outputs) -> x`; it adds
            its convolutions' outputs to `conv_outputs`.
        include_top: as keras.applications.
        weights: None, "imagenet" (with `imagenet`) or a weights file.
        input_tensor: as keras.applications.
        input_shape: as keras.applications.
        pooling: as keras.applications.
        classes: as keras.applications.
        classifier_activation: as keras.applications.
        attention: anything `keras_chattn.get_attention` takes, or a list
            with one entry per stage (None skips a stage).
        attention_kwargs: keyword arguments of every attention block, or a
            list with one dict (or None) per stage.
        attention_position: where in each residual block (see
            `keras_chattn.models.positions`), or a list with one per stage.
        attention_every: a block in every k-th residual block of a stage
            (counting the first), or a list with one k per stage.
        conv_style: the convolutions' and BatchNorms' settings.
        head: `"gap"`, `"bridge"` or `"bridge_stages"` (see `resnet`).
        scale: `"imagenet"` or `"cifar"`, for the blocks' position rules.
        default_input_shape: the input shape when none is given
            (channels_last; the spatial rank follows from it).
        min_size: the least spatial size the network downsamples.
        stage_input: one of `STAGE_INPUTS`.
        imagenet: `(keras.applications constructor, its weights' file
            stem)` where ImageNet weights exist for this network.
        name: the model's name.

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> from keras_chattn.models import ResNet, Stage
        >>> from keras_chattn.models import apply_basic_block
        >>> stages = [
        ...     Stage("conv2", 8, shortcut="conv"),
        ...     Stage("conv3", 16, stride=2, shortcut="conv"),
        ... ]
        >>> model = ResNet(stages, apply_basic_block, input_shape=(16, 16, 3),
        ...                classes=4, attention="se", min_size=4, name="tiny")
        >>> [l.name for l in model.layers if l.name.endswith("attention")]
        ['conv2_block1_attention', 'conv3_block1_attention']
    """
    validation.choice("stage_input", stage_input, STAGE_INPUTS, ordered=True)
    conv_style = conv_style or ConvStyle()
    top = heads.Top.checked(
        include_top, pooling, classes, classifier_activation, head
    )
    model_weights.check_weights(
        weights, name, imagenet is not None, include_top, classes
    )
    inputs = model_inputs.model_input(
        input_tensor,
        input_shape,
        default_input_shape,
        min_size,
        name,
        spatial_dims=len(default_input_shape) - 1,
    )
    specs = placement.resolve_attention(
        attention,
        attention_kwargs,
        len(stages),
        scale=scale,
        position=attention_position,
        every=attention_every,
    )
    if len(default_input_shape) != 3:
        form = f"{len(default_input_shape) - 1}-D"
        placement.refuse_replace_conv(specs, attention, name, form)
    conv_outputs = []
    x = inputs if stem is None else stem(inputs, conv_style, conv_outputs)
    stage_outputs = []
    for index, (stage, spec) in enumerate(zip(stages, specs, strict=True)):
        x = _stage(
            x, stage, spec, block, conv_style, conv_outputs, index, stage_input
        )
        x = placement.end_stage(
            x, spec, stage.prefix, last=index == len(stages) - 1
        )
        stage_outputs.append(x)
    x = placement.end_network(x, specs[-1])
    outputs = top.apply(x, stage_outputs, conv_outputs)
    model = heads.make_model(input_tensor, inputs, outputs, name)
    application, file_stem = imagenet or (None, None)
    return model_weights.load_weights(
        model,
        weights,
        application,
        file_stem,
        include_top,
        input_shape=tuple(inputs.shape[1:]),
    )


def _stage(x, stage, spec, block, conv_style, conv_outputs, index, at):
    """The stage's residual blocks, its "stage_input" block first."""
    extra = {}
    if at == "stage" and placement.goes(spec, "stage_input"):
        x = spec.apply(x, f"{stage.prefix}_attention")
    elif at == "block":
        # The 1-D ResNet's blocks place it themselves: at the block's input,
        # or in the first block (which sees the raw series) after its first
        # convolution.
        extra["input_attention"] = "after_first_conv" if index == 0 else "input"
    for number in range(1, stage.blocks + 1):
        first = number == 1
        chosen = spec if spec is not None and spec.in_block(number) else None
        x = block(
            x,
            stage.filters,
            stride=stage.stride if first else 1,
            shortcut=stage.shortcut if first else "identity",
            conv_style=conv_style,
            attention=chosen,
            name=stage.block_name(number),
            conv_outputs=conv_outputs,
            **extra,
        )
    return x
