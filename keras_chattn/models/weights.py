"""The builders' `weights=` argument: None, "imagenet" or a file.

ImageNet weights come from the keras.applications model with the same
layer names; a builder checks that it can reach the download host before
starting, so offline use fails in seconds instead of after minutes of
retries.
"""

import contextlib
import os
import pathlib
import re
import tempfile
import warnings
import zipfile

import h5py
import keras

from keras_chattn.utils import environment
from keras_chattn.utils.types import PathLike

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
        return load_weights_file(model, weights)
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


def copy_weights_by_name(source: keras.Model, target: keras.Model) -> int:
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


def load_weights_file(
    model: keras.Model, path: PathLike, partial: bool = False
) -> keras.Model:
    """Loads a `.weights.h5` (or `.keras`) file saved from the same model.

    The file's layers and weight shapes are compared with the model's
    first; a file saved from another architecture (say with SE blocks, into
    a model without them) is refused with the layers that differ, instead
    of loading what happens to fit. With `partial=True` the layers that
    match are loaded and the others are listed in a warning.

    Examples:

        >>> import os, tempfile
        >>> import keras_chattn
        >>> from keras_chattn.models.weights import load_weights_file
        >>> path = os.path.join(tempfile.mkdtemp(), "se.weights.h5")
        >>> se_model = keras_chattn.models.cifar_resnet(20, attention="se")
        >>> se_model.save_weights(path)
        >>> plain = keras_chattn.models.cifar_resnet(20)
        >>> load_weights_file(plain, path)
        Traceback (most recent call last):
        ...
        ValueError: The weights file ... was saved from another architecture ...
    """
    differences = weight_file_differences(model, path)
    if differences and not partial:
        raise ValueError(
            f"The weights file {path} was saved from another architecture "
            f"than {model.name!r}: {differences}. Build the model the file "
            "was saved from, or load what matches with "
            "keras_chattn.models.load_weights_file(model, path, "
            "partial=True)."
        )
    if differences:
        warnings.warn(
            f"Loading {path} partially into {model.name!r}: {differences}",
            stacklevel=2,
        )
    model.load_weights(path, skip_mismatch=partial)
    return model


def weight_file_differences(model, path):
    """What differs between the weights in `path` and `model`'s, as one
    line ("" when they match)."""
    with _weights_h5(path) as stored:
        theirs = _h5_shapes(stored)
    with tempfile.TemporaryDirectory() as folder:
        own = pathlib.Path(folder) / "own.weights.h5"
        model.save_weights(own)
        ours = _h5_shapes(own)
    names = _group_names(model)
    only_file = sorted({_group(k) for k in theirs} - {_group(k) for k in ours})
    only_model = sorted({_group(k) for k in ours} - {_group(k) for k in theirs})
    reshaped = sorted(
        {_group(k) for k in theirs.keys() & ours.keys() if theirs[k] != ours[k]}
    )
    parts = []
    if only_file:
        parts.append("layers only in the file: " + _listed(only_file))
    if only_model:
        parts.append(
            "layers only in the model: "
            + _listed([names.get(group, group) for group in only_model])
        )
    if reshaped:
        parts.append(
            "layers whose weight shapes differ: "
            + _listed([names.get(group, group) for group in reshaped])
        )
    return "; ".join(parts)


@contextlib.contextmanager
def _weights_h5(path):
    path = pathlib.Path(path)
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            with archive.open("model.weights.h5") as member:
                with h5py.File(member, "r") as handle:
                    yield handle
        return
    with h5py.File(path, "r") as handle:
        yield handle


def _h5_shapes(source):
    shapes = {}

    def visit(key, item):
        if isinstance(item, h5py.Dataset):
            shapes[key] = tuple(item.shape)

    if isinstance(source, h5py.File):
        source.visititems(visit)
    else:
        with h5py.File(source, "r") as handle:
            handle.visititems(visit)
    return shapes


def _group(key):
    """`layers/conv2d_3/vars/0` -> `layers/conv2d_3` (the layer's group)."""
    parts = key.split("/")
    return "/".join(parts[:2]) if parts[0] == "layers" else parts[0]


def _group_names(model):
    """{h5 group: layer name}: Keras names each layer's group after its
    class in snake case, numbered in the order of `model.layers`."""
    counts = {}
    names = {}
    for layer in model.layers:
        base = _snake_case(type(layer).__name__)
        count = counts.get(base, 0)
        counts[base] = count + 1
        group = base if count == 0 else f"{base}_{count}"
        names[f"layers/{group}"] = f"{layer.name} ({type(layer).__name__})"
    return names


def _snake_case(name):
    """`SqueezeExcite` -> `squeeze_excite`, as Keras names weight groups."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _listed(items, most=6):
    shown = ", ".join(str(item) for item in items[:most])
    more = len(items) - most
    return f"{shown}{f' and {more} more' if more > 0 else ''} ({len(items)})"
