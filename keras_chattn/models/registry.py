"""Model builders by name, for command lines, configs and hypermodels."""

import inspect
from collections.abc import Callable
from typing import Any

import keras

from keras_chattn.models.cifar_resnets import CifarResNet20
from keras_chattn.models.cifar_resnets import CifarResNet32
from keras_chattn.models.cifar_resnets import CifarResNet44
from keras_chattn.models.cifar_resnets import CifarResNet56
from keras_chattn.models.cifar_resnets import CifarResNet110
from keras_chattn.models.imagenet_resnets import ResNet18
from keras_chattn.models.imagenet_resnets import ResNet34
from keras_chattn.models.imagenet_resnets import ResNet50
from keras_chattn.models.imagenet_resnets import ResNet101
from keras_chattn.models.imagenet_resnets import ResNet152
from keras_chattn.models.sequence_resnets import resnet1d
from keras_chattn.models.small_networks import small_cnn
from keras_chattn.models.small_networks import small_cnn_stages
from keras_chattn.models.vgg_networks import VGG16
from keras_chattn.models.vgg_networks import VGG19

MODEL_BUILDERS = {
    "resnet18": ResNet18,
    "resnet34": ResNet34,
    "resnet50": ResNet50,
    "resnet101": ResNet101,
    "resnet152": ResNet152,
    "cifar_resnet20": CifarResNet20,
    "cifar_resnet32": CifarResNet32,
    "cifar_resnet44": CifarResNet44,
    "cifar_resnet56": CifarResNet56,
    "cifar_resnet110": CifarResNet110,
    "vgg16": VGG16,
    "vgg19": VGG19,
    "small_cnn": small_cnn,
}
# Builders of other inputs than images, by name (for hypermodels and
# `build_model`; the image examples list MODEL_BUILDERS only).
SERIES_BUILDERS = {"resnet1d": resnet1d}


# Each builder's residual block (which attention positions it has, see
# keras_chattn.models.positions) and its number of stages (None: from its
# `dataset`, small_cnn's).
BUILDER_LAYOUTS = {
    "resnet18": ("basic", 4),
    "resnet34": ("basic", 4),
    "resnet50": ("bottleneck", 4),
    "resnet101": ("bottleneck", 4),
    "resnet152": ("bottleneck", 4),
    "cifar_resnet20": ("basic", 3),
    "cifar_resnet32": ("basic", 3),
    "cifar_resnet44": ("basic", 3),
    "cifar_resnet56": ("basic", 3),
    "cifar_resnet110": ("basic", 3),
    "vgg16": ("plain", 5),
    "vgg19": ("plain", 5),
    "small_cnn": ("plain", None),
    "resnet1d": ("sequence", 3),
}


def attention_layout(name: str, **builder_kwargs: Any) -> tuple[str, int]:
    """(block form, stages) of the builder registered as `name`: the
    positions its blocks have (`keras_chattn.models.positions.
    FORM_POSITIONS`) and how many per-stage entries it takes.

    Examples:

        >>> from keras_chattn.models import attention_layout
        >>> attention_layout("resnet50"), attention_layout("small_cnn")
        (('bottleneck', 4), ('plain', 4))
    """
    get_model_builder(name)
    form, stages = BUILDER_LAYOUTS[name.lower()]
    if stages is None:
        stages = small_cnn_stages(builder_kwargs.get("dataset", "cifar10"))
    return form, stages


def get_model_builder(name: str) -> Callable[..., keras.Model]:
    """The builder function registered as `name` (case-insensitive).

    Examples:

        >>> from keras_chattn.models import get_model_builder
        >>> get_model_builder("CIFAR_ResNet20").__name__
        'CifarResNet20'
    """
    key = name.lower() if isinstance(name, str) else None
    builders = {**MODEL_BUILDERS, **SERIES_BUILDERS}
    if key not in builders:
        raise ValueError(
            f"model must be one of {sorted(builders)}. Received: model={name!r}"
        )
    return builders[key]


def builder_arguments(name: str) -> tuple[str, ...]:
    """The keyword arguments the builder registered as `name` takes.

    Lets a command line pass an architecture flag only to the builders that
    have it (`stem` to the ImageNet ResNets, `shortcut` to the CIFAR ones).

    Examples:

        >>> from keras_chattn.models import builder_arguments
        >>> ("stem" in builder_arguments("resnet50"),
        ...  "stem" in builder_arguments("cifar_resnet20"))
        (True, False)
    """
    return tuple(inspect.signature(get_model_builder(name)).parameters)


def build_model(name: str, **kwargs: Any) -> keras.Model:
    """Calls the builder registered as `name` with `kwargs`.

    A keyword the builder does not take (say `stem` for a VGG) is an error
    that names it and lists the builder's keywords, rather than a
    `TypeError` from deep inside.

    Examples:

        >>> from keras_chattn.models import build_model
        >>> model = build_model("cifar_resnet20", input_shape=(32, 32, 3),
        ...                     classes=10, attention="se")
        >>> model.name
        'cifar_resnet20'
    """
    builder = get_model_builder(name)
    accepted = builder_arguments(name)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"model {name!r} does not take {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(accepted))}. Received: "
            + ", ".join(f"{key}={kwargs[key]!r}" for key in unknown)
        )
    return builder(**kwargs)
