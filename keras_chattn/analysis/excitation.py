"""Excitation statistics of CC-blocks: the paper's section 3.1 and Figure 5.

Reference: Marwood and Baluja, "Contextual Convolution Blocks": per channel,
the tilt |initial - end| and the magnitude |(initial + end) / 2 - 1| of the
bilinear coefficients in each dimension (Figure 5 a-d), and the class
separability of the coefficients by Mann-Whitney tests (Eq. 3, Figure 5 e).
"""

from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from keras_chattn.analysis import inputs
from keras_chattn.layers.contextual_conv import ContextualConv
from keras_chattn.utils import validation


def _cc_layers(model, bilinear_only):
    layers = [
        layer
        for layer in model.layers
        if isinstance(layer, ContextualConv)
        and layer.coefficient_count == 4
        and (layer.emp == "bilinear" or not bilinear_only)
    ]
    if not layers:
        kind = "bilinear " if bilinear_only else ""
        raise ValueError(
            f"{model.name!r} has no ContextualConv layer with 4 {kind}"
            "coefficients to analyse."
        )
    return layers


def layer_coefficients(model, images, layers, batch_size=64):
    """Per layer, the EMP coefficients for every image: (N, C, 4) arrays."""
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, [layer.input for layer in layers])
    images = np.asarray(images)
    parts = [[] for _ in layers]
    for start in range(0, len(images), batch_size):
        features = probe(images[start : start + batch_size], training=False)
        if len(layers) == 1:
            features = [features]
        for part, layer, x in zip(parts, layers, features, strict=True):
            part.append(ops.convert_to_numpy(layer.coefficients(x)))
    return [np.concatenate(part).astype("float64") for part in parts]


def excitation_statistics(
    model: keras.Model, images: ArrayLike, batch_size: int = 64
) -> list[dict[str, Any]]:
    """Tilt and magnitude of every bilinear CC-block's coefficients.

    Args:
        model: a built model with `ContextualConv` layers (bilinear EMP).
        images: inputs for `model`.
        batch_size: images per forward pass.

    Returns:
        One dict per layer, in network order: `layer`, and arrays of shape
        `(images, channels)`: `tilt_w` = |initial_w - end_w|, `tilt_h`,
        `magnitude_w` = |(initial_w + end_w) / 2 - 1|, `magnitude_h`.
        Summaries (e.g. medians per layer) are the caller's choice; the
        paper shows their distributions per layer.
    """
    inputs.model(model, "excitation_statistics")
    images = inputs.images(images)
    batch_size = inputs.batch_size(batch_size)
    layers = _cc_layers(model, bilinear_only=True)
    rows = []
    for layer, p in zip(
        layers,
        layer_coefficients(model, images, layers, batch_size),
        strict=True,
    ):
        initial_w, end_w, initial_h, end_h = (p[..., i] for i in range(4))
        rows.append(
            {
                "layer": layer.name,
                "tilt_w": np.abs(initial_w - end_w),
                "tilt_h": np.abs(initial_h - end_h),
                "magnitude_w": np.abs((initial_w + end_w) / 2 - 1),
                "magnitude_h": np.abs((initial_h + end_h) / 2 - 1),
            }
        )
    return rows


def class_separability(
    model: keras.Model,
    images: ArrayLike,
    labels: ArrayLike,
    alpha: float = 0.01,
    batch_size: int = 64,
) -> tuple[np.ndarray, list[int]]:
    """Eq. 3: how many coefficient distributions differ between two classes.

    For every coefficient of every channel of every CC-block (4 per channel),
    the values over the images of class u and over those of class v are
    compared by a two-sided Mann-Whitney U test; ClassDiff[u, v] counts the
    coefficients with p < `alpha`. On the diagonal, the images of a class are
    split into two halves (in their order) and compared the same way, so a
    diagonal far below the off-diagonal entries means the coefficients depend
    on the class. We compare each coefficient with the same coefficient of
    the other class, which is how the text describes Figure 5(e).

    Args:
        model: a built model with `ContextualConv` layers.
        images: inputs for `model`.
        labels: integer class of each image.
        alpha: significance level. Defaults to 0.01, the paper's.
        batch_size: images per forward pass.

    Returns:
        An int array `(classes, classes)` indexed by the sorted labels
        present, and the sorted labels.
    """
    from scipy.stats import mannwhitneyu

    inputs.model(model, "class_separability")
    images = inputs.images(images)
    labels = inputs.labels(labels, len(images))
    batch_size = inputs.batch_size(batch_size)
    alpha = validation.number_in_range("alpha", alpha, 0.0, 1.0)
    layers = _cc_layers(model, bilinear_only=False)
    per_layer = layer_coefficients(model, images, layers, batch_size)
    values = np.concatenate([p.reshape(len(images), -1) for p in per_layer], 1)
    classes = np.unique(labels)
    groups = {c: values[labels == c] for c in classes}
    small = [int(c) for c in classes if len(groups[c]) < 4]
    if small:
        raise ValueError(
            "class_separability needs at least 4 images of every class (2 "
            f"per half on the diagonal); classes {small} have fewer."
        )
    matrix = np.zeros((len(classes), len(classes)), dtype=int)
    for i, u in enumerate(classes):
        for j, v in enumerate(classes):
            if j < i:
                matrix[i, j] = matrix[j, i]
                continue
            a, b = groups[u], groups[v]
            if i == j:
                half = len(a) // 2
                a, b = a[:half], a[half:]
            p = mannwhitneyu(a, b, axis=0).pvalue
            matrix[i, j] = int(np.sum(np.nan_to_num(p, nan=1.0) < alpha))
    return matrix, classes
