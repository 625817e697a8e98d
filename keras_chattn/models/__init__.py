"""Functional model builders that take any attention block.

Modules, one job each:

- `placement`: where a block goes (`AttentionSpec`, `resolve_attention`),
  decided once per builder from the block's declared placement;
- `inputs`: the image input and its size check;
- `conv_style`: how convolutions and BatchNorms are made (`ConvStyle`);
- `residual_blocks`: `apply_basic_block`, `apply_bottleneck_block`;
- `plain_blocks`: `apply_plain_stage` (VGG, the CC-block paper's CNNs);
- `shortcut`: the parameter-free option-A shortcut layer;
- `heads`: pooling, the bridge head and the classifier;
- `weights`: the builders' `weights=` argument;
- one module per family: `resnet`, `cifar_resnet`, `vgg`, `small_cnn`;
  `resnet1d` (sequences) and `resnet3d` (volumes);
- `graph` and `surgery`: `add_attention`, blocks inserted into any
  functional model (keras.applications included);
- `registry`: builders by name; `summary`: what each block costs.
"""

from keras_chattn.models.cifar_resnet import CifarResNet20
from keras_chattn.models.cifar_resnet import CifarResNet32
from keras_chattn.models.cifar_resnet import CifarResNet44
from keras_chattn.models.cifar_resnet import CifarResNet56
from keras_chattn.models.cifar_resnet import CifarResNet110
from keras_chattn.models.cifar_resnet import cifar_resnet
from keras_chattn.models.conv_style import ConvStyle
from keras_chattn.models.placement import AttentionSpec
from keras_chattn.models.placement import attention_spec
from keras_chattn.models.plain_blocks import apply_plain_stage
from keras_chattn.models.registry import MODEL_BUILDERS
from keras_chattn.models.registry import build_model
from keras_chattn.models.registry import builder_arguments
from keras_chattn.models.registry import get_model_builder
from keras_chattn.models.residual_blocks import apply_basic_block
from keras_chattn.models.residual_blocks import apply_bottleneck_block
from keras_chattn.models.resnet import ResNet18
from keras_chattn.models.resnet import ResNet34
from keras_chattn.models.resnet import ResNet50
from keras_chattn.models.resnet import ResNet101
from keras_chattn.models.resnet import ResNet152
from keras_chattn.models.resnet import resnet
from keras_chattn.models.resnet1d import resnet1d
from keras_chattn.models.resnet3d import resnet3d
from keras_chattn.models.shortcut import ChannelPadShortcut
from keras_chattn.models.small_cnn import small_cnn
from keras_chattn.models.summary import summary_table
from keras_chattn.models.surgery import add_attention
from keras_chattn.models.vgg import VGG16
from keras_chattn.models.vgg import VGG19
from keras_chattn.models.vgg import vgg
from keras_chattn.models.weights import copy_weights_by_name
from keras_chattn.models.weights import load_weights_file

__all__ = [
    "AttentionSpec",
    "ChannelPadShortcut",
    "ConvStyle",
    "MODEL_BUILDERS",
    "CifarResNet20",
    "CifarResNet32",
    "CifarResNet44",
    "CifarResNet56",
    "CifarResNet110",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "VGG16",
    "VGG19",
    "add_attention",
    "apply_basic_block",
    "apply_bottleneck_block",
    "apply_plain_stage",
    "attention_spec",
    "build_model",
    "builder_arguments",
    "cifar_resnet",
    "copy_weights_by_name",
    "get_model_builder",
    "load_weights_file",
    "resnet",
    "resnet1d",
    "resnet3d",
    "small_cnn",
    "summary_table",
    "vgg",
]
