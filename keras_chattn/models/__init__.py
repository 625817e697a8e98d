"""Functional model builders that take any attention block.

Modules, one job each:

- `block_table`: where builders and `add_attention` put each block
  (`register_placement`), and the blocks' position rules;
- `placement`: `AttentionSpec` and `resolve_attention`, decided once per
  builder from the table; `positions`: where inside a residual block
  (`attention_position`) and in which blocks (`attention_every`);
- `resnet_builder`: `ResNet` and `Stage`, the one stage loop of every
  ResNet; the families on it: `imagenet_resnets` (`resnet`, `ResNet18`
  ... `ResNet152`), `cifar_resnets` (`cifar_resnet`, `CifarResNet20` ...),
  `sequence_resnets` (`resnet1d`) and `volume_resnets` (`resnet3d`);
- `vgg_networks` (`vgg`, `VGG16`, `VGG19`) and `small_networks`
  (`small_cnn`), plain stages from `plain_blocks`;
- `residual_blocks`: `apply_basic_block`, `apply_bottleneck_block`;
- `named_depths`: one builder at one depth (`ResNet50` and the others);
- `inputs`, `conv_style`, `shortcut`, `heads`, `weights`: the input, the
  convolutions and BatchNorms, the option-A shortcut, the top, the
  `weights=` argument;
- `registry`: builders by name (`attention_layout`: a builder's block
  form and stages); `costs` and `summary`: what each block
  costs;
- `timm_resnets` (`timm_resnet`, `TIMM_ARCHITECTURES`) and `timm_weights`
  (`from_timm`): timm's pretrained attention ResNets on our builder;
  `grouped_convolution`: the ResNeXt convolution that exports.

`add_attention` lives in `keras_chattn.surgery` (also reachable here).
"""

from keras_chattn.models.cifar_resnets import CifarResNet20
from keras_chattn.models.cifar_resnets import CifarResNet32
from keras_chattn.models.cifar_resnets import CifarResNet44
from keras_chattn.models.cifar_resnets import CifarResNet56
from keras_chattn.models.cifar_resnets import CifarResNet110
from keras_chattn.models.cifar_resnets import cifar_resnet
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.imagenet_resnets import ResNet18
from keras_chattn.models.imagenet_resnets import ResNet34
from keras_chattn.models.imagenet_resnets import ResNet50
from keras_chattn.models.imagenet_resnets import ResNet101
from keras_chattn.models.imagenet_resnets import ResNet152
from keras_chattn.models.imagenet_resnets import resnet
from keras_chattn.models.placement import AttentionSpec
from keras_chattn.models.placement import attention_spec
from keras_chattn.models.plain_blocks import apply_plain_stage
from keras_chattn.models.positions import POSITIONS
from keras_chattn.models.registry import MODEL_BUILDERS
from keras_chattn.models.registry import attention_layout
from keras_chattn.models.registry import build_model
from keras_chattn.models.registry import builder_arguments
from keras_chattn.models.registry import get_model_builder
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.models.residual_blocks import apply_bottleneck_block
from keras_chattn.models.resnet_builder import ResNet
from keras_chattn.models.resnet_builder import Stage
from keras_chattn.models.sequence_resnets import resnet1d
from keras_chattn.models.shortcut import ChannelPadShortcut
from keras_chattn.models.small_networks import small_cnn
from keras_chattn.models.summary import summary_table
from keras_chattn.models.timm_resnets import TIMM_ARCHITECTURES
from keras_chattn.models.timm_resnets import preprocessing as timm_preprocessing
from keras_chattn.models.timm_resnets import timm_resnet
from keras_chattn.models.timm_weights import CheckpointError
from keras_chattn.models.timm_weights import from_timm
from keras_chattn.models.vgg_networks import VGG16
from keras_chattn.models.vgg_networks import VGG19
from keras_chattn.models.vgg_networks import vgg
from keras_chattn.models.volume_resnets import resnet3d
from keras_chattn.models.weights import copy_weights_by_name
from keras_chattn.models.weights import load_weights_file

__all__ = [
    "AttentionSpec",
    "ChannelPadShortcut",
    "CheckpointError",
    "ConvStyle",
    "MODEL_BUILDERS",
    "POSITIONS",
    "CifarResNet20",
    "CifarResNet32",
    "CifarResNet44",
    "CifarResNet56",
    "CifarResNet110",
    "ResNet",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "Stage",
    "TIMM_ARCHITECTURES",
    "VGG16",
    "VGG19",
    "apply_basic_block",
    "apply_bottleneck_block",
    "apply_plain_stage",
    "attention_layout",
    "attention_spec",
    "build_model",
    "builder_arguments",
    "cifar_resnet",
    "copy_weights_by_name",
    "from_timm",
    "get_model_builder",
    "load_weights_file",
    "resnet",
    "resnet1d",
    "resnet3d",
    "small_cnn",
    "summary_table",
    "timm_preprocessing",
    "timm_resnet",
    "vgg",
]


def __getattr__(name):
    # `keras_chattn.models.add_attention`, kept for existing code: the
    # function lives in `keras_chattn.surgery` (which reads this package's
    # placement table), so it is imported on first use, not here.
    if name == "add_attention":
        from keras_chattn.surgery import add_attention

        return add_attention
    raise AttributeError(
        f"module 'keras_chattn.models' has no attribute {name!r}"
    )
