"""The builders' `weights=` argument: None, "imagenet" or a file.

ImageNet weights come from the keras.applications model with the same
layer names; a builder checks that it can reach the download host before
starting, so offline use fails in seconds instead of after minutes of
retries.
"""

import os
import pathlib

from keras_chattn.utils import environment

# Where keras.applications downloads its ImageNet weights from.
IMAGENET_HOST = ("storage.googleapis.com", 443)


def check_weights(weights, model_name, has_imagenet, include_top, classes):
    """Checks `weights` before the model is built."""
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
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "weights='imagenet' with include_top=True needs classes=1000 (the "
            f"ImageNet classifier). Received: classes={classes}"
        )


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
    cached = environment.keras_home() / "models" / file_name
    if not cached.exists() and not environment.reachable(IMAGENET_HOST):
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
    Returns how many layers were copied.
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
