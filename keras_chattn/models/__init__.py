"""Functional model builders that take any attention block."""

from keras_chattn.models.blocks import apply_basic_block
from keras_chattn.models.blocks import apply_bottleneck_block
from keras_chattn.models.cifar_resnet import CifarResNet20
from keras_chattn.models.cifar_resnet import CifarResNet32
from keras_chattn.models.cifar_resnet import CifarResNet44
from keras_chattn.models.cifar_resnet import CifarResNet56
from keras_chattn.models.cifar_resnet import CifarResNet110
from keras_chattn.models.cifar_resnet import cifar_resnet
from keras_chattn.models.registry import MODEL_BUILDERS
from keras_chattn.models.registry import build_model
from keras_chattn.models.registry import get_model_builder
from keras_chattn.models.resnet import ResNet18
from keras_chattn.models.resnet import ResNet34
from keras_chattn.models.resnet import ResNet50
from keras_chattn.models.resnet import ResNet101
from keras_chattn.models.resnet import ResNet152
from keras_chattn.models.resnet import resnet
from keras_chattn.models.shortcut import ChannelPadShortcut
from keras_chattn.models.small_cnn import small_cnn
from keras_chattn.models.summary import summary_table
from keras_chattn.models.vgg import VGG16
from keras_chattn.models.vgg import VGG19
from keras_chattn.models.vgg import vgg

__all__ = [
    "ChannelPadShortcut",
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
    "apply_basic_block",
    "apply_bottleneck_block",
    "build_model",
    "cifar_resnet",
    "get_model_builder",
    "resnet",
    "small_cnn",
    "summary_table",
    "vgg",
]
