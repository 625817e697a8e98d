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
from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.models import heads
from keras_chattn.models import inputs as model_inputs
from keras_chattn.models import placement
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.residual_blocks import finish_residual
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import InitializerLike


def _positive_ints(name, values):
    if isinstance(values, (str, bytes)) or not isinstance(
        values, (list, tuple)
    ):
        raise ValueError(
            f"{name} must be a non-empty list or tuple of positive ints. "
            f"Received: {name}={values!r}"
        )
    if not values:
        raise ValueError(
            f"{name} must be a non-empty list or tuple of positive ints. "
            f"Received: {name}={values!r}"
        )
    return tuple(validation.positive_int(name, v) for v in values)


def apply_sequence_block(
    x, filters, kernel_sizes, conv_style, spec, name, conv_outputs, first
):
    """One residual block of `resnet1d` (see the module docstring).

    Attention: a `"branch"` block after the last BatchNorm, before the
    addition (`{name}_attention`); an `"after_3x3"` block (SimAM) after the
    last convolution, before its BatchNorm; a `"stage_input"` block (C3) at
    the block's input (`{name}_input_attention`), or in the first block,
    which sees the raw series, after its first convolution's ReLU.
    """
    channels = x.shape[model_inputs.bn_axis()]
    if channels != filters:
        residual = conv_style.conv_bn(x, filters, 1, 1, f"{name}_0")
    else:
        residual = conv_style.batchnorm(x, f"{name}_0_bn")
    if placement.goes(spec, "stage_input") and not first:
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
            if index == 1 and first and placement.goes(spec, "stage_input"):
                x = spec.apply(x, f"{name}_input_attention")
            features.append(x)
    return finish_residual(x, residual, features, spec, name, conv_outputs)


def resnet1d(
    input_shape: tuple[int | None, ...] | None = None,
    classes: int = 2,
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    filters: Sequence[int] = (64, 128, 128),
    kernel_sizes: Sequence[int] = (8, 5, 3),
    include_top: bool = True,
    pooling: str | None = None,
    classifier_activation: ActivationLike | None = "softmax",
    input_tensor: keras.KerasTensor | None = None,
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
        input_shape: `(length, channels)` (`(channels, length)` for
            `data_format="channels_first"`); the length may be None.
            Defaults to `(None, 1)`.
        classes: number of classes of the `predictions` layer.
        attention: anything `keras_chattn.get_attention` takes, or a list
            with one entry per block (None skips a block).
        attention_kwargs: keyword arguments of every attention block.
        filters: the width of each residual block. Defaults to
            `(64, 128, 128)`.
        kernel_sizes: the kernel sizes of a block's convolutions. Defaults
            to `(8, 5, 3)`.
        include_top: global average pooling and the `predictions` Dense.
        pooling: without the top, None (the last map), `"avg"` or `"max"`.
        classifier_activation: activation of `predictions`.
        input_tensor: optional Keras tensor to build on.
        batchnorm_momentum: momentum of every BatchNorm.
        batchnorm_epsilon: epsilon of every BatchNorm.
        kernel_initializer: initializer of every convolution.
        conv_bias: biases in the convolutions.
        name: model name.

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.resnet1d((150, 1), 2, attention="se")
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
    conv_style = dataclasses.replace(conv_style, spatial_dims=1)
    top = heads.Top.checked(
        include_top, pooling, classes, classifier_activation, "gap"
    )
    inputs = model_inputs.model_input(
        input_tensor, input_shape, (None, 1), 1, name, spatial_dims=1
    )
    specs = placement.resolve_attention(
        attention, attention_kwargs, len(filters), scale="cifar"
    )
    placement.refuse_replace_conv(specs, attention, name, "1-D")
    x = inputs
    stage_outputs = []
    conv_outputs = []
    for index, (width, spec) in enumerate(zip(filters, specs, strict=True)):
        prefix = f"block{index + 1}"
        x = apply_sequence_block(
            x,
            width,
            kernel_sizes,
            conv_style,
            spec,
            prefix,
            conv_outputs,
            first=index == 0,
        )
        x = placement.end_stage(x, spec, prefix, last=index == len(filters) - 1)
        stage_outputs.append(x)
    x = placement.end_network(x, specs[-1])
    outputs = top.apply(x, stage_outputs, conv_outputs)
    return heads.make_model(input_tensor, inputs, outputs, name)
