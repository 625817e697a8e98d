"""Named depths (`ResNet50`, `CifarResNet20`, `VGG16`): one builder at
one depth, made by one function instead of restating its signature."""

import inspect
from collections.abc import Callable
from typing import Any

import keras


def named_depth(
    builder: Callable[..., keras.Model], depth: int, name: str, summary: str
) -> Callable[..., keras.Model]:
    """`builder` at one depth, as a function of the other arguments
    (positional ones in `builder`'s order), with `builder`'s signature
    but `depth`, and `summary` for a docstring.

    Examples:

        >>> from keras_chattn.models import cifar_resnet
        >>> net20 = named_depth(cifar_resnet, 20, "Net20", "A ResNet-20.")
        >>> net20(classes=4).output_shape
        (None, 4)
        >>> list(__import__("inspect").signature(net20).parameters)[:2]
        ['include_top', 'weights']
    """

    def build(*args: Any, **kwargs: Any) -> keras.Model:
        return builder(depth, *args, **kwargs)

    parameters = list(inspect.signature(builder).parameters.values())[1:]
    build.__signature__ = inspect.signature(builder).replace(
        parameters=parameters
    )
    build.__name__ = build.__qualname__ = name
    build.__module__ = builder.__module__
    build.__doc__ = (
        f"{summary}\n\n    `{builder.__name__}({depth}, ...)`: every argument "
        f"of `{builder.__name__}` but `depth`.\n"
    )
    return build
