"""3-D ResNets for volumes and clips, with attention blocks.

Reference: Hara, Kataoka and Satoh, "Can Spatiotemporal 3D CNNs Retrace
the History of 2D CNNs and ImageNet?", CVPR 2018 (3D-ResNet-18/34: the
2-D ResNet with every convolution 3-D). A 7x7x7 stem convolution (64
filters, strides (1, 2, 2): the depth or time axis is not halved),
BatchNorm, ReLU and a 3x3x3 max-pool of stride 2; four stages of basic
blocks (two 3x3x3 convolutions) of 64, 128, 256 and 512 filters, the
stages after the first starting with a stride-2 block whose shortcut is a
1x1x1 convolution + BatchNorm; global average pooling and a classifier.
"""

import dataclasses
from collections.abc import Sequence

import keras

from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.models.resnet_builder import ResNet
from keras_chattn.models.resnet_builder import Stage
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import AttentionKwargs
from keras_chattn.utils.types import EveryArg
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import PathLike
from keras_chattn.utils.types import PositionArg

STAGE_BLOCKS = {10: (1, 1, 1, 1), 18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


def _positive_ints(name, values, count, what):
    if not isinstance(values, (list, tuple)) or len(values) != count:
        raise ValueError(
            f"{name} must be {count} positive ints ({what}). "
            f"Received: {name}={values!r}"
        )
    return tuple(
        validation.positive_int(name, v, validation.MAX_WIDTH) for v in values
    )


def resnet3d(
    depth: int = 18,
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 400,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: AttentionKwargs = None,
    attention_position: PositionArg = "standard",
    attention_every: EveryArg = 1,
    widths: Sequence[int] = (64, 128, 256, 512),
    stem_strides: Sequence[int] = (1, 2, 2),
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """Builds a 3-D ResNet-10/18/34 with attention blocks.

    Placement as in the 2-D ResNets: `"branch"` blocks (SE, CBAM-3D, ECA,
    GC, ...) on every residual branch after the second BatchNorm
    (`conv{stage}_block{i}_attention`); SimAM after the second
    convolution; C3 at every stage input; BAM between stages; DANet after
    the last stage. The selective kernel block (2-D only) is refused.
    Convolutions without bias, He-normal kernels and PyTorch's BatchNorm
    (momentum 0.1, i.e. Keras 0.9; epsilon 1e-5) by default, as the
    reference code.

    Args:
        depth: 10, 18 or 34.
        include_top: global average pooling and the `predictions` Dense.
        weights: None or the path of a weights file for this model.
        input_tensor: optional Keras tensor to build on.
        input_shape: `(depth, height, width, channels)` (channels first
            for `data_format="channels_first"`); spatial sizes may be None.
            Defaults to `(16, 112, 112, 3)` (a clip of 16 frames).
        pooling: without the top, None (the last map), `"avg"` or `"max"`.
        classes: number of classes of `predictions`.
        classifier_activation: activation of `predictions`.
        attention: anything `keras_chattn.get_attention` takes, or a list
            with one entry per stage.
        attention_kwargs: keyword arguments of every block, or one
            dict (or None) per stage.
        attention_position: where in each residual block (see
            `ResNet`), or one per stage.
        attention_every: a block in every k-th residual block of a
            stage, or one k per stage.
        widths: the four stages' filters. Defaults to `(64, 128, 256, 512)`
            (smaller widths for small volumes and tests).
        stem_strides: strides of the stem convolution. Defaults to
            `(1, 2, 2)`.
        batchnorm_momentum: momentum of every BatchNorm.
        batchnorm_epsilon: epsilon of every BatchNorm.
        kernel_initializer: initializer of every convolution.
        conv_bias: biases in the convolutions.
        name: model name; defaults to e.g. `"resnet3d18"`.

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.resnet3d(
        ...     18, input_shape=(8, 32, 32, 1), classes=3, attention="cbam",
        ...     widths=(8, 16, 16, 32),
        ... )
        >>> model.output_shape
        (None, 3)
        >>> sum("attention" in layer.name for layer in model.layers)
        8
    """

    if not isinstance(depth, int) or depth not in STAGE_BLOCKS:
        raise ValueError(
            f"depth must be one of {sorted(STAGE_BLOCKS)}. "
            f"Received: depth={depth!r}"
        )
    widths = _positive_ints("widths", widths, 4, "one per stage")
    stem_strides = _positive_ints(
        "stem_strides", stem_strides, 3, "depth, height, width"
    )
    conv_style = ConvStyle.checked(
        conv_bias=conv_bias,
        kernel_initializer=kernel_initializer,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
    )
    stages = [
        Stage(
            f"conv{number}",
            filters,
            blocks,
            stride=2 if number > 2 else 1,
            shortcut="conv" if number > 2 else "identity",
        )
        for number, filters, blocks in zip(
            (2, 3, 4, 5), widths, STAGE_BLOCKS[depth], strict=True
        )
    ]

    def stem(x, style, conv_outputs):
        x = style.conv(x, widths[0], 7, stem_strides, "conv1_conv")
        x = style.batchnorm(x, "conv1_bn")
        x = keras.layers.Activation("relu", name="conv1_relu")(x)
        # TensorFlow has no float16 MaxPool3D kernel on CPUs: under
        # mixed_float16 the pool runs in float32 (the next convolution
        # casts back).
        half = keras.config.dtype_policy().compute_dtype == "float16"
        return keras.layers.MaxPooling3D(
            3,
            strides=2,
            padding="same",
            dtype="float32" if half else None,
            name="pool1",
        )(x)

    return ResNet(
        stages,
        apply_basic_block,
        stem,
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
        conv_style=dataclasses.replace(conv_style, spatial_dims=3),
        scale="imagenet",
        default_input_shape=(16, 112, 112, 3),
        min_size=1,
        name=name or f"resnet3d{depth}",
    )
