"""The time-series classification ResNet, with attention blocks.

Reference: Wang, Yan and Oates, "Time Series Classification from Scratch
with Deep Neural Networks: A Strong Baseline", IJCNN 2017; the baseline of
Fawaz, Forestier, Weber, Idoumghar and Muller, "Deep learning for time
series classification: a review", Data Mining and Knowledge Discovery 2019
(the best of its nine networks on the UCR archive). Three residual blocks
of 64, 128 and 128 filters, each three "same" convolutions of kernel sizes
8, 5 and 3 with BatchNorm (ReLU after the first two), a shortcut that is a
1x1 convolution + BatchNorm where the width changes and a BatchNorm where
it does not, ReLU after the addition; global average pooling and a softmax
classifier.
"""

import dataclasses
import functools
from collections.abc import Sequence

import keras

from keras_chattn.models import placement
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.residual_blocks import at_position
from keras_chattn.models.residual_blocks import finish_residual
from keras_chattn.models.residual_blocks import start_residual
from keras_chattn.models.resnet_builder import ResNet
from keras_chattn.models.resnet_builder import Stage
from keras_chattn.utils import layout
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import PathLike
from keras_chattn.utils.types import PositionArg


def _positive_ints(name, values):
    if (
        isinstance(values, (str, bytes))
        or not isinstance(values, (list, tuple))
        or not values
    ):
        raise ValueError(
            f"{name} must be a non-empty list or tuple of positive ints. "
            f"Received: {name}={values!r}"
        )
    return tuple(
        validation.positive_int(name, v, validation.MAX_WIDTH) for v in values
    )


def apply_sequence_block(
    x,
    filters,
    stride=1,
    shortcut="auto",
    conv_style=None,
    attention=None,
    name=None,
    conv_outputs=None,
    kernel_sizes=(8, 5, 3),
    input_attention="input",
):
    """One residual block of `resnet1d` (see the module docstring).

    The shortcut is a 1x1 convolution + BatchNorm where the width changes
    and a BatchNorm where it does not (`stride` is 1: the network keeps
    the series' length). Attention: a `"branch"` block after the last
    BatchNorm, before the addition (`{name}_attention`); an `"after_3x3"`
    block (SimAM) after the last convolution, before its BatchNorm; a
    `"stage_input"` block (C3) at the block's input (`{name}_input_
    attention`), or with `input_attention="after_first_conv"` (the first
    block, which sees the raw series) after its first convolution's ReLU.
    A block moved to another position (`keras_chattn.models.positions`)
    goes there: `"after_conv1"`/`"after_conv2"` after the first/second
    convolution's ReLU.
    """
    spec = placement.attention_spec(attention)
    data_format = layout.image_data_format()
    channels = x.shape[layout.channel_axis(data_format)]
    if channels != filters:
        residual = conv_style.conv_bn(x, filters, 1, 1, f"{name}_0")
    else:
        residual = conv_style.batchnorm(x, f"{name}_0_bn")
    x, residual = start_residual(x, residual, spec, name, "sequence")
    input_block = placement.goes(spec, "stage_input")
    if input_block and input_attention == "input":
        x = spec.apply(x, f"{name}_input_attention")
    features = []
    last = len(kernel_sizes)
    for index, kernel_size in enumerate(kernel_sizes, start=1):
        x = conv_style.conv(x, filters, kernel_size, 1, f"{name}_{index}_conv")
        if index == last and placement.goes(spec, "after_3x3"):
            x = spec.apply(x, f"{name}_attention")
        x = conv_style.batchnorm(x, f"{name}_{index}_bn")
        if index < last:
            x = keras.layers.Activation("relu", name=f"{name}_{index}_relu")(x)
            if (
                index == 1
                and input_block
                and input_attention == "after_first_conv"
            ):
                x = spec.apply(x, f"{name}_input_attention")
            x = at_position(x, spec, f"after_conv{index}", name)
            features.append(x)
    return finish_residual(x, residual, features, spec, name, conv_outputs)


def resnet1d(
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 2,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: AttentionKwargs = None,
    attention_position: PositionArg = "standard",
    attention_every: EveryArg = 1,
    filters: Sequence[int] = (64, 128, 128),
    kernel_sizes: Sequence[int] = (8, 5, 3),
    batchnorm_momentum: float = 0.99,
    batchnorm_epsilon: float = 1e-3,
    kernel_initializer: InitializerLike = "glorot_uniform",
    conv_bias: bool = True,
    name: str = "resnet1d",
) -> keras.Model:
    """Builds the time-series ResNet of Wang et al. 2017 with attention.

    The defaults are the baseline's (Fawaz et al. 2019's Keras code: Keras'
    Conv1D and BatchNorm defaults). Any registry block goes in by name or
    as a class or factory: `"branch"` blocks (SE, ECA, CBAM, GC, BA, CC,
    ...) on every residual branch after the last BatchNorm
    (`block{i}_attention`); SimAM before the last BatchNorm; C3 at the
    input of every block (the first after its first convolution: never on
    the raw series); BAM between blocks (`block{i}_out_attention`); DANet
    after the last block (`head_attention`). Blocks tied to two spatial
    axes (coordinate, triplet, selective kernel) refuse sequences.

    Args:
        include_top: global average pooling and the `predictions` Dense.
        weights: None or the path of a weights file for this model.
        input_tensor: optional Keras tensor to build on.
        input_shape: `(length, channels)` (`(channels, length)` for
            `data_format="channels_first"`); the length may be None.
            Defaults to `(None, 1)`.
        pooling: without the top, None (the last map), `"avg"` or `"max"`.
        classes: number of classes of the `predictions` layer.
        classifier_activation: activation of `predictions`.
        attention: anything `keras_chattn.get_attention` takes, or a list
            with one entry per block (None skips a block).
        attention_kwargs: keyword arguments of every block, or one
            dict (or None) per stage.
        attention_position: where in each residual block (see
            `ResNet`), or one per stage.
        attention_every: a block in every k-th residual block of a
            stage, or one k per stage.
        filters: the width of each residual block. Defaults to
            `(64, 128, 128)`.
        kernel_sizes: the kernel sizes of a block's convolutions. Defaults
            to `(8, 5, 3)`.
        batchnorm_momentum: momentum of every BatchNorm.
        batchnorm_epsilon: epsilon of every BatchNorm.
        kernel_initializer: initializer of every convolution.
        conv_bias: biases in the convolutions.
        name: model name.

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.resnet1d(
        ...     input_shape=(150, 1), classes=2, attention="se"
        ... )
        >>> model.output_shape, len(model.layers) > 30
        ((None, 2), True)
        >>> [l.name for l in model.layers if "attention" in l.name]
        ['block1_attention', 'block2_attention', 'block3_attention']
    """
    filters = _positive_ints("filters", filters)
    kernel_sizes = _positive_ints("kernel_sizes", kernel_sizes)
    conv_style = ConvStyle.checked(
        conv_bias=conv_bias,
        kernel_initializer=kernel_initializer,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
    )
    stages = [
        Stage(f"block{index}", width, shortcut="auto", name_blocks=False)
        for index, width in enumerate(filters, start=1)
    ]
    return ResNet(
        stages,
        functools.partial(apply_sequence_block, kernel_sizes=kernel_sizes),
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
        conv_style=dataclasses.replace(conv_style, spatial_dims=1),
        scale="cifar",
        default_input_shape=(None, 1),
        min_size=1,
        stage_input="block",
        name=name,
    )
