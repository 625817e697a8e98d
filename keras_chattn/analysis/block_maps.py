"""What every attention block of a model computed, for a batch of images.

Every keras_chattn block returns its maps with `return_attention=True`
(documented per block in docs/layers.md). `attention_maps` runs a model
once per batch with every chosen block returning its maps beside its
output; `class_excitation` averages the channel weights per class, the SE
paper's picture of excitation across depth.
"""

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from keras_chattn.analysis import inputs
from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.identity_start import IdentityStart

BLOCKS = (AttentionLayer, IdentityStart)


def attention_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """The attention blocks of `model`, nested functional models included,
    as {name: layer} in network order."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, BLOCKS):
            found[layer.name] = layer
        elif isinstance(layer, keras.Model):
            found.update(attention_layers(layer))
    return found


def attention_maps(
    model: keras.Model,
    images: ArrayLike,
    layers: Sequence[str] | None = None,
    batch_size: int = 32,
) -> dict[str, dict[str, np.ndarray]]:
    """`{block name: {map name: array}}` for `images`, in one pass.

    Args:
        model: a functional model holding keras_chattn blocks (from a
            builder, `add_attention`, or by hand; nested models too).
        images: an array of images.
        layers: names of the blocks to read; None for all.
        batch_size: images per forward pass. Defaults to 32.

    Returns:
        For each block, its maps (see each block's `attend`) as NumPy
        arrays over all images, channels_last.

    The model runs once per batch, eagerly and in inference mode, with
    each chosen block computing its maps beside its output (nothing is
    traced, so nothing is retraced from call to call); on every backend.

    Examples:

        >>> import numpy as np
        >>> import keras_chattn
        >>> model = keras_chattn.models.cifar_resnet(8, attention="cbam")
        >>> maps = keras_chattn.analysis.attention_maps(
        ...     model, np.random.rand(4, 32, 32, 3).astype("float32")
        ... )
        >>> maps["conv3_block1_attention"]["spatial"].shape
        (4, 16, 16)
    """
    inputs.model(model, "attention_maps")
    images = inputs.images(images)
    batch_size = inputs.batch_size(batch_size)
    chosen = _chosen(model, layers)
    batches = []
    for batch in _batches(images, batch_size):
        collected = {}
        _run(model, batch, chosen, collected)
        batches.append(collected)
    nested = {}
    sizes = [len(b) for b in _batches(images, batch_size)]
    for key in batches[0]:
        name, kind = key.split("/", 1)
        values = [keras.ops.convert_to_numpy(b[key]) for b in batches]
        per_image = all(
            v.ndim and v.shape[0] == size
            for v, size in zip(values, sizes, strict=True)
        )
        # A map of the block itself (IdentityStart's gate) is not per image.
        nested.setdefault(name, {})[kind] = (
            np.concatenate(values) if per_image else values[0]
        )
    return nested


def _batches(images, batch_size):
    return [
        images[start : start + batch_size]
        for start in range(0, len(images), batch_size)
    ]


def _chosen(model, layers):
    if isinstance(layers, str):
        layers = [layers]
    if layers is not None and (
        not isinstance(layers, (list, tuple, set))
        or not all(isinstance(name, str) for name in layers)
    ):
        raise ValueError(
            "layers must be None or a list of block names. Received: "
            f"layers={layers!r}"
        )
    available = attention_layers(model)
    chosen = set(available) if layers is None else set(layers)
    unknown = sorted(chosen - set(available))
    if unknown or not chosen:
        raise ValueError(
            f"layers must name attention blocks of {model.name!r}: "
            f"{sorted(available)}. Received: layers={layers!r}"
        )
    return chosen


def _run(model, inputs, chosen, collected):
    """`model` on `inputs`, eagerly, recording the chosen blocks' maps."""

    def call(layer, *args, **kwargs):
        kwargs["training"] = False
        if layer.name in chosen and isinstance(layer, BLOCKS):
            outputs, maps = layer.attend(*args, **kwargs)
            for kind, value in maps.items():
                collected[f"{layer.name}/{kind}"] = value
            return outputs
        if (
            isinstance(layer, keras.Model)
            and set(attention_layers(layer)) & chosen
        ):
            return _run(layer, args[0], chosen, collected)
        if "training" not in _arguments(layer):
            kwargs.pop("training")
        return layer(*args, **kwargs)

    return model._run_through_graph(
        keras.ops.convert_to_tensor(inputs), call_fn=call
    )


def _arguments(layer):
    import inspect

    return inspect.signature(layer.call).parameters


def class_excitation(
    model: keras.Model,
    images: ArrayLike,
    labels: ArrayLike,
    layers: Sequence[str] | None = None,
    batch_size: int = 32,
) -> dict[str, dict[str, Any]]:
    """Mean channel weights per class for every block with channel weights.

    Args:
        model: as for `attention_maps`.
        images: the images.
        labels: their integer classes (>= 0), one per image, `(N,)`.
        layers: block names; None for every block that has a `"channel"`
            map (SE, CBAM, ECA, BA, BAM and blocks wrapped in
            `IdentityStart`).
        batch_size: images per forward pass.

    Returns:
        `{block: {"per_class": (classes, C) array, "spread": float,
        "classes": [class indices]}}`, where `spread` is the mean over
        channels of the standard deviation of the class means: near 0 for
        a block that excites the same channels whatever the class, larger
        for a class-specific one (the SE paper's Figure 6 reading).
    """
    inputs.model(model, "class_excitation")
    images = inputs.images(images)
    labels = inputs.labels(labels, len(images))
    maps = attention_maps(model, images, layers, batch_size)
    classes = sorted(int(c) for c in np.unique(labels))
    result = {}
    for name, block in maps.items():
        weights = block.get("channel")
        if weights is None:
            continue
        per_class = np.stack(
            [weights[labels == c].mean(axis=0) for c in classes]
        )
        result[name] = {
            "per_class": per_class,
            "spread": float(per_class.std(axis=0).mean()),
            "classes": classes,
        }
    if not result:
        raise ValueError(
            "class_excitation needs blocks with channel weights (SE, CBAM, "
            f"ECA, BA, BAM); {model.name!r} has none among "
            f"{sorted(maps)}."
        )
    return result
