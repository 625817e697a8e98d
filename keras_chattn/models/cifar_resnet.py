"""The CIFAR ResNets of He et al. (depth 6n + 2) with attention blocks.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image
Recognition", CVPR 2016, section 4.2: a 3x3 conv with 16 filters, then three
stages of n basic blocks with 16, 32 and 64 filters (feature maps 32, 16, 8),
global average pooling and a Dense classifier. By default convolutions have
no bias and He-normal initialisation, and BatchNorm uses PyTorch's defaults
(epsilon 1e-5, momentum 0.1, i.e. Keras momentum 0.9), as in the reference
code the C3 and CBAM CIFAR experiments build on
(akamaster/pytorch_resnet_cifar10); each of these is an argument.
"""

from typing import Any

import keras

from keras_chattn.models import heads
from keras_chattn.models import inputs as model_inputs
from keras_chattn.models import placement
from keras_chattn.models import weights as model_weights
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.utils import validation
from keras_chattn.utils.types import ActivationLike
from keras_chattn.utils.types import AttentionArg
from keras_chattn.utils.types import InitializerLike
from keras_chattn.utils.types import PathLike

SHORTCUTS = ("A", "B")


def cifar_resnet(
    depth: int = 20,
    shortcut: str = "A",
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    head: str = "gap",
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """Builds a CIFAR ResNet of depth 6n + 2 (20, 32, 44, 56, 110, ...).

    Placement: the attention block goes on the residual branch of every basic
    block after the second BatchNorm, before the addition
    (`conv{stage}_block{i}_attention`, stages 2..4); a block class whose
    `placement` is `"stage_input"` goes once at the input of each stage
    (`conv{stage}_attention`).

    Args:
        depth: 6n + 2 for a positive integer n.
        shortcut: "A" (subsample and zero-pad channels: no parameters, the
            paper's CIFAR choice) or "B" (1x1 conv + BatchNorm) where the
            shape changes.
        include_top: global average pooling and the `predictions` Dense.
        weights: None or the path of a weights file for this model.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: defaults to (32, 32, 3); height and width may be None.
        pooling: with `include_top=False`: None, "avg" or "max".
        classes: classifier width. Defaults to 10.
        classifier_activation: activation of `predictions` (None: logits).
        attention: None, a registry name, a Layer class, a callable returning
            a layer, or a list with one entry per stage (3 stages).
        attention_kwargs: keyword arguments for every attention block.
        head: "gap" (global average pooling), "bridge" (the enhanced
            channel-wise attention report's network-level bridge:
            `CrossLayerPooling`, named `bridge_pool`, over the output of
            every convolution of the main path, after its BatchNorm and, where
            the network has one, its ReLU) or "bridge_stages" (the same over
            every stage's output only).
        batchnorm_momentum: Keras momentum of every BatchNorm. Defaults to
            0.9 (PyTorch's 0.1); Keras' own default is 0.99.
        batchnorm_epsilon: epsilon of every BatchNorm. Defaults to 1e-5
            (PyTorch's); Keras' own default is 1e-3.
        kernel_initializer: initializer of every convolution kernel.
            Defaults to "he_normal" (He et al.); Keras' own default is
            "glorot_uniform".
        conv_bias: biases in the convolutions. Defaults to False (the
            papers); Keras' own default is True.
        name: model name; defaults to e.g. "cifar_resnet20".

    Returns:
        A functional `keras.Model`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.cifar_resnet(20, attention="cbam")
        >>> model.count_params() > 269_722
        True
    """
    if (
        isinstance(depth, bool)
        or not isinstance(depth, int)
        or depth < 8
        or (depth - 2) % 6
    ):
        raise ValueError(
            "depth must be 6n + 2 for a positive integer n (20, 32, 44, 56, "
            f"110, ...). Received: depth={depth!r}"
        )
    validation.choice("shortcut", shortcut, SHORTCUTS)
    conv_style = ConvStyle.checked(
        conv_bias=conv_bias,
        kernel_initializer=kernel_initializer,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
    )
    name = name or f"cifar_resnet{depth}"
    model_weights.check_weights(weights, name, False, include_top, classes)
    top = heads.Top.checked(
        include_top, pooling, classes, classifier_activation, head
    )
    inputs = model_inputs.model_input(
        input_tensor, input_shape, (32, 32, 3), min_size=4, model_name=name
    )
    specs = placement.resolve_attention(
        attention, attention_kwargs, 3, scale="cifar"
    )
    x = conv_style.conv_bn(inputs, 16, 3, 1, "conv1")
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    n = (depth - 2) // 6
    stage_outputs = []
    conv_outputs = [x]
    downsampling_shortcut = "pad" if shortcut == "A" else "conv"
    for stage, (filters, spec) in enumerate(
        zip((16, 32, 64), specs, strict=True), start=2
    ):
        prefix = f"conv{stage}"
        if placement.goes(spec, "stage_input"):
            x = spec.apply(x, f"{prefix}_attention")
        for index in range(1, n + 1):
            downsample = index == 1 and stage > 2
            x = apply_basic_block(
                x,
                filters,
                stride=2 if downsample else 1,
                shortcut=downsampling_shortcut if downsample else "identity",
                conv_style=conv_style,
                attention=spec,
                name=f"{prefix}_block{index}",
                conv_outputs=conv_outputs,
            )
        x = placement.end_stage(x, spec, prefix, last=stage == 4)
        stage_outputs.append(x)
    x = placement.end_network(x, specs[-1])
    outputs = top.apply(x, stage_outputs, conv_outputs)
    model = heads.make_model(input_tensor, inputs, outputs, name)
    return model_weights.load_weights(model, weights, None, None, include_top)


def CifarResNet20(
    shortcut: str = "A",
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    head: str = "gap",
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """CIFAR ResNet-20: `cifar_resnet(20, ...)`.

    See `cifar_resnet` for every argument.
    """
    return cifar_resnet(
        20,
        shortcut=shortcut,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        head=head,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
        kernel_initializer=kernel_initializer,
        conv_bias=conv_bias,
        name=name,
    )


def CifarResNet32(
    shortcut: str = "A",
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    head: str = "gap",
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """CIFAR ResNet-32: `cifar_resnet(32, ...)`.

    See `cifar_resnet` for every argument.
    """
    return cifar_resnet(
        32,
        shortcut=shortcut,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        head=head,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
        kernel_initializer=kernel_initializer,
        conv_bias=conv_bias,
        name=name,
    )


def CifarResNet44(
    shortcut: str = "A",
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    head: str = "gap",
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """CIFAR ResNet-44: `cifar_resnet(44, ...)`.

    See `cifar_resnet` for every argument.
    """
    return cifar_resnet(
        44,
        shortcut=shortcut,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        head=head,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
        kernel_initializer=kernel_initializer,
        conv_bias=conv_bias,
        name=name,
    )


def CifarResNet56(
    shortcut: str = "A",
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    head: str = "gap",
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """CIFAR ResNet-56: `cifar_resnet(56, ...)`.

    See `cifar_resnet` for every argument.
    """
    return cifar_resnet(
        56,
        shortcut=shortcut,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        head=head,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
        kernel_initializer=kernel_initializer,
        conv_bias=conv_bias,
        name=name,
    )


def CifarResNet110(
    shortcut: str = "A",
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: dict[str, Any] | None = None,
    head: str = "gap",
    batchnorm_momentum: float = 0.9,
    batchnorm_epsilon: float = 1e-5,
    kernel_initializer: InitializerLike = "he_normal",
    conv_bias: bool = False,
    name: str | None = None,
) -> keras.Model:
    """CIFAR ResNet-110: `cifar_resnet(110, ...)`.

    See `cifar_resnet` for every argument.
    """
    return cifar_resnet(
        110,
        shortcut=shortcut,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        attention=attention,
        attention_kwargs=attention_kwargs,
        head=head,
        batchnorm_momentum=batchnorm_momentum,
        batchnorm_epsilon=batchnorm_epsilon,
        kernel_initializer=kernel_initializer,
        conv_bias=conv_bias,
        name=name,
    )
