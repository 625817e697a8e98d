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

import keras

from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.imagenet_resnets import cifar_stem
from keras_chattn.models.named_depths import named_depth
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

SHORTCUTS = ("A", "B")


def cifar_resnet(
    depth: int = 20,
    include_top: bool = True,
    weights: str | PathLike | None = None,
    input_tensor: keras.KerasTensor | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: ActivationLike | None = "softmax",
    attention: AttentionArg = None,
    attention_kwargs: AttentionKwargs = None,
    attention_position: PositionArg = "standard",
    attention_every: EveryArg = 1,
    shortcut: str = "A",
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
    placement is `"stage_input"` (`keras_chattn.models.block_table`) goes
    once at the input of each stage
    (`conv{stage}_attention`).

    Args:
        depth: 6n + 2 for a positive integer n.
        include_top: global average pooling and the `predictions` Dense.
        weights: None or the path of a weights file for this model.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: defaults to (32, 32, 3); height and width may be None.
        pooling: with `include_top=False`: None, "avg" or "max".
        classes: classifier width. Defaults to 10.
        classifier_activation: activation of `predictions` (None: logits).
        attention: None, a registry name, a Layer class, a callable returning
            a layer, or a list with one entry per stage (3 stages).
        attention_kwargs: keyword arguments of every block, or one
            dict (or None) per stage.
        attention_position: where in each residual block (see
            `ResNet`), or one per stage.
        attention_every: a block in every k-th residual block of a
            stage, or one k per stage.
        shortcut: "A" (subsample and zero-pad channels: no parameters, the
            paper's CIFAR choice) or "B" (1x1 conv + BatchNorm) where the
            shape changes.
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
    downsample = "pad" if shortcut == "A" else "conv"
    n = (depth - 2) // 6
    stages = [
        Stage("conv2", 16, n),
        Stage("conv3", 32, n, stride=2, shortcut=downsample),
        Stage("conv4", 64, n, stride=2, shortcut=downsample),
    ]
    return ResNet(
        stages,
        apply_basic_block,
        lambda x, style, outputs: cifar_stem(x, style, outputs, filters=16),
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
        conv_style=conv_style,
        head=head,
        scale="cifar",
        default_input_shape=(32, 32, 3),
        min_size=4,
        name=name or f"cifar_resnet{depth}",
    )


CifarResNet20 = named_depth(
    cifar_resnet, 20, "CifarResNet20", "CIFAR ResNet-20."
)
"""CIFAR ResNet-20: `cifar_resnet(20, ...)`."""
CifarResNet32 = named_depth(
    cifar_resnet, 32, "CifarResNet32", "CIFAR ResNet-32."
)
"""CIFAR ResNet-32: `cifar_resnet(32, ...)`."""
CifarResNet44 = named_depth(
    cifar_resnet, 44, "CifarResNet44", "CIFAR ResNet-44."
)
"""CIFAR ResNet-44: `cifar_resnet(44, ...)`."""
CifarResNet56 = named_depth(
    cifar_resnet, 56, "CifarResNet56", "CIFAR ResNet-56."
)
"""CIFAR ResNet-56: `cifar_resnet(56, ...)`."""
CifarResNet110 = named_depth(
    cifar_resnet, 110, "CifarResNet110", "CIFAR ResNet-110."
)
"""CIFAR ResNet-110: `cifar_resnet(110, ...)`."""
