"""Pieces every model builder shares: input, attention per stage, top, weights.

Builders are functions that return a functional `keras.Model` with the
keras.applications keywords (`include_top`, `weights`, `input_tensor`,
`input_shape`, `pooling`, `classes`, `classifier_activation`) plus
`attention=` and `attention_kwargs=`.
"""

import inspect
import os
import pathlib
import socket

import keras

from keras_chattn.layers.cross_layer_pooling import CrossLayerPooling
from keras_chattn.layers.registry import create_attention
from keras_chattn.layers.registry import get_attention
from keras_chattn.utils import validation

# Where keras.applications downloads its ImageNet weights from; a builder
# checks it can reach it before starting a download, so that offline use
# fails in seconds instead of after minutes of retries.
IMAGENET_HOST = ("storage.googleapis.com", 443)
CONNECT_TIMEOUT_SECONDS = 3.0


def channels_last():
    return keras.config.image_data_format() == "channels_last"


def bn_axis():
    return -1 if channels_last() else 1


def model_input(input_tensor, input_shape, default_size, min_size, model_name):
    """The model's input tensor, with its spatial size checked.

    Args:
        input_tensor: optional Keras tensor to build on.
        input_shape: optional shape without batch, in the global data format.
        default_size: (height, width, channels) used when neither is given.
        min_size: smallest height/width the network can downsample.
        model_name: for error messages.
    """
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            input_tensor = keras.Input(tensor=input_tensor)
        shape = tuple(input_tensor.shape[1:])
    else:
        if input_shape is None:
            height, width, channels = default_size
            input_shape = (
                (height, width, channels)
                if channels_last()
                else (channels, height, width)
            )
        shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(
            f"{model_name} takes images: input_shape must have 3 entries "
            "(height, width, channels) without the batch dimension. "
            f"Received: input_shape={shape}"
        )
    spatial = shape[:2] if channels_last() else shape[1:]
    for size in spatial:
        if size is not None and size < min_size:
            raise ValueError(
                f"{model_name} downsamples its input by {min_size}, so height "
                f"and width must be at least {min_size} (or None). "
                f"Received: input_shape={shape}"
            )
    if input_tensor is not None:
        return input_tensor
    return keras.Input(shape)


def stage_attention(attention, num_stages):
    """One resolved attention factory (or None) per stage.

    `attention` is anything `keras_chattn.get_attention` takes, or a list or
    tuple with one such entry per stage.
    """
    if isinstance(attention, (list, tuple)):
        if len(attention) != num_stages:
            raise ValueError(
                f"A per-stage attention list needs one entry per stage "
                f"({num_stages} here, None to skip a stage). "
                f"Received: attention={attention!r}"
            )
        return [get_attention(spec) for spec in attention]
    return [get_attention(attention)] * num_stages


def placement(factory):
    """Where a block goes; plain callables count as `"branch"` blocks."""
    return getattr(factory, "placement", "branch")


def needs_features(factory):
    """Whether a block takes the list of its block's intermediate maps."""
    return bool(getattr(factory, "needs_intermediate_features", False))


def attend(x, factory, attention_kwargs, where, name, scale, features=None):
    """Applies a new block from `factory` if its placement is `where`.

    The block's constructor gets its `position_kwargs` for this position and
    network `scale` ("imagenet" or "cifar"), then `attention_kwargs`. A block
    that `needs_intermediate_features` is called on `features` (the maps of
    the convolutions it bridges, ending with `x`) instead of `x`.
    """
    if factory is None or placement(factory) != where:
        return x
    kwargs = {}
    position_kwargs = getattr(factory, "position_kwargs", None)
    if position_kwargs is not None:
        data_format = keras.config.image_data_format()
        kwargs.update(position_kwargs(tuple(x.shape), data_format, scale))
    kwargs.update(attention_kwargs or {})
    layer = create_attention(factory, name=name, **kwargs)
    if needs_features(factory):
        return layer(list(features or [x]))
    return layer(x)


# "bridge": CrossLayerPooling over every convolution's output (the report);
# "bridge_stages": over every stage's output only.
HEADS = ("gap", "bridge", "bridge_stages")
BRIDGE_HEADS = ("bridge", "bridge_stages")


def check_head(head, include_top, pooling):
    validation.choice("head", head, HEADS)
    if head in BRIDGE_HEADS and not include_top and pooling is not None:
        raise ValueError(
            f"head={head!r} already pools (through CrossLayerPooling); with "
            "include_top=False pass pooling=None. "
            f"Received: pooling={pooling!r}"
        )


def bridge_pooling(head, conv_outputs, stage_outputs):
    """The report's network-level bridge, `bridge_pool`.

    `head="bridge"` pools every convolution's output (`conv_outputs`), as
    the report describes; `head="bridge_stages"` only every stage's output.
    """
    maps = conv_outputs if head == "bridge" else stage_outputs
    return CrossLayerPooling(name="bridge_pool")(list(maps))


def apply_pooling_or_top(
    x,
    include_top,
    pooling,
    classes,
    classifier_activation,
    head="gap",
    stage_outputs=(),
    conv_outputs=(),
):
    """The top of a residual network.

    `head="gap"`: global average pooling (`avg_pool`) and `predictions`, or
    the optional feature pooling without the top. `head="bridge"` /
    `"bridge_stages"`: `CrossLayerPooling` over every convolution's /
    stage's output instead of the pooling.
    """
    if head in BRIDGE_HEADS:
        x = bridge_pooling(head, conv_outputs, stage_outputs)
        if include_top:
            return classifier(x, classes, classifier_activation)
        return x
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return classifier(x, classes, classifier_activation)
    return feature_pooling(x, pooling)


def feature_pooling(x, pooling):
    if pooling is None:
        return x
    validation.choice("pooling", pooling, ("avg", "max"))
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)


def classifier(x, classes, classifier_activation):
    """The `predictions` Dense; float32 under a mixed precision policy."""
    validation.positive_int("classes", classes)
    mixed = keras.config.dtype_policy().compute_dtype != "float32"
    return keras.layers.Dense(
        classes,
        activation=classifier_activation,
        dtype="float32" if mixed else None,
        name="predictions",
    )(x)


def variant(builder, first_argument, value, name, summary):
    """`builder` with its first argument fixed, e.g. ResNet50 from resnet.

    The function keeps `builder`'s keyword signature (for `help()` and IDEs)
    minus the fixed argument.
    """

    def build(**kwargs):
        return builder(value, **kwargs)

    signature = inspect.signature(builder)
    build.__signature__ = signature.replace(
        parameters=[
            p for p in signature.parameters.values() if p.name != first_argument
        ]
    )
    build.__name__ = build.__qualname__ = name
    build.__module__ = builder.__module__
    build.__doc__ = (
        f"{summary}: `{builder.__name__}({value}, **kwargs)`.\n\n"
        f"    See `{builder.__name__}` for the keyword arguments.\n"
    )
    return build


def make_model(input_tensor, inputs, outputs, name):
    if input_tensor is not None:
        inputs = keras.utils.get_source_inputs(input_tensor)
    return keras.Model(inputs, outputs, name=name)


def check_common_arguments(
    weights, include_top, classes, pooling, model_name, has_imagenet
):
    if weights not in (None, "imagenet") and not isinstance(
        weights, (str, os.PathLike)
    ):
        raise ValueError(
            "weights must be None, 'imagenet' or the path of a weights file. "
            f"Received: weights={weights!r}"
        )
    if weights is not None and weights != "imagenet":
        if not pathlib.Path(weights).is_file():
            raise ValueError(
                "weights must be None, 'imagenet' or the path of an existing "
                f"weights file. Received: weights={weights!r} (no such file)"
            )
    if weights == "imagenet" and not has_imagenet:
        raise ValueError(
            f"There are no ImageNet weights for {model_name} in "
            "keras.applications. Received: weights='imagenet'; pass None or "
            "the path of a weights file."
        )
    validation.boolean("include_top", include_top)
    validation.positive_int("classes", classes)
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "weights='imagenet' with include_top=True needs classes=1000 (the "
            f"ImageNet classifier). Received: classes={classes}"
        )
    if pooling is not None:
        validation.choice("pooling", pooling, ("avg", "max"))


def keras_cache_dir():
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return pathlib.Path(home) / "models"


def _imagenet_reachable():
    try:
        with socket.create_connection(
            IMAGENET_HOST, timeout=CONNECT_TIMEOUT_SECONDS
        ):
            return True
    except OSError:
        return False


def load_weights(model, weights, application, file_stem, include_top, **app):
    """Loads `weights` into `model` (see the builders' `weights` argument).

    Args:
        model: the built model.
        weights: None, "imagenet" or a path.
        application: the keras.applications constructor with the same layer
            names (used only for "imagenet").
        file_stem: keras.applications' weight file stem (e.g. "resnet50").
        include_top: whether the model has its classifier.
        **app: extra arguments for `application` (input_shape, ...).
    """
    if weights is None:
        return model
    if weights != "imagenet":
        model.load_weights(weights)
        return model
    suffix = "" if include_top else "_notop"
    file_name = f"{file_stem}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    cached = keras_cache_dir() / file_name
    if not cached.exists() and not _imagenet_reachable():
        raise ValueError(
            f"weights='imagenet' needs keras.applications' {file_name}, which "
            f"is not in {cached.parent} and cannot be downloaded (no network "
            f"connection to {IMAGENET_HOST[0]}). Download it where there is a "
            f"network and copy it to {cached}, or pass weights=None or the "
            "path of a weights file."
        )
    source = application(weights="imagenet", include_top=include_top, **app)
    copy_weights_by_name(source, model)
    return model


def copy_weights_by_name(source, target):
    """Copies every layer's weights from `source` to the same-named layer.

    Layers that only `target` has (attention blocks) keep their fresh
    initialisation. A same-named layer with other weight shapes is an error.
    """
    copied = 0
    for layer in source.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        try:
            destination = target.get_layer(layer.name)
        except ValueError:
            continue
        shapes = [w.shape for w in weights]
        expected = [tuple(w.shape) for w in destination.weights]
        if shapes != expected:
            raise ValueError(
                f"Cannot load ImageNet weights into layer {layer.name!r}: "
                f"shapes {expected} differ from the file's {shapes} (ImageNet "
                "weights need conv_bias=True and the default input channels)."
            )
        destination.set_weights(weights)
        copied += 1
    return copied
