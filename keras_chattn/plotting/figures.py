"""Figures of what attention blocks compute (matplotlib, the `plot` extra).

Every function returns a `matplotlib.figure.Figure` with titles and colour
bars; save it with `figure.savefig(path)`. Images may be uint8 or floats
(normalised images are rescaled to [0, 1] per image for display).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot():
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "keras_chattn.plotting needs matplotlib: pip install "
            "'keras_chattn[plot]'"
        ) from None
    return plt


def displayable(images):
    """`images` as floats in [0, 1] (uint8 divided by 255, other floats
    rescaled per image)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 255.0
    images = images.astype("float32")
    low = images.min(axis=(1, 2, 3), keepdims=True)
    high = images.max(axis=(1, 2, 3), keepdims=True)
    return (images - low) / np.maximum(high - low, 1e-12)


def _upsample(map_, size):
    """Nearest upsampling of a 2-D map to `size` (for overlays)."""
    rows = (np.arange(size[0]) * map_.shape[0] // size[0]).astype(int)
    cols = (np.arange(size[1]) * map_.shape[1] // size[1]).astype(int)
    return map_[rows][:, cols]


def _caption(index, labels, predictions, class_names):
    def name(value):
        value = int(value)
        return class_names[value] if class_names else str(value)

    parts = []
    if labels is not None:
        parts.append(f"true: {name(labels[index])}")
    if predictions is not None:
        parts.append(f"predicted: {name(predictions[index])}")
    return "\n".join(parts)


def spatial_maps(
    images: ArrayLike,
    maps: dict[str, ArrayLike],
    labels: ArrayLike | None = None,
    predictions: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    title: str = "Spatial attention",
) -> "Figure":
    """Each image beside its maps, overlaid on it.

    Args:
        images: `(N, H, W, 3)`.
        maps: `{column title: (N, h, w) array}`, e.g. CBAM's `"spatial"` of
            several blocks (upsampled to the image).
        labels: optional `(N,)` true classes for the row captions.
        predictions: optional `(N,)` predicted classes for the captions.
        class_names: optional names of the classes.
        title: the figure's title.
    """
    images = displayable(images)
    columns = {
        name: [_upsample(np.asarray(v), images.shape[1:3]) for v in values]
        for name, values in maps.items()
    }
    return _overlay_grid(
        images,
        columns,
        lambda row: _caption(row, labels, predictions, class_names),
        lambda row, name: name,
        inches=2.3,
        title=title,
    )


def channel_excitation(
    excitation: dict[str, Any],
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> "Figure":
    """How each class moves each channel's weight, one panel per block.

    `excitation` is the result of `keras_chattn.analysis.class_excitation`
    (pass the blocks to show, e.g. the last of each stage). Each panel
    shows, per class (rows) and channel (columns), the class's mean weight
    minus the mean over classes, on a diverging scale: a class-agnostic
    block is flat, a class-specific one striped across rows.
    """
    plt = _pyplot()
    count = len(excitation)
    figure, axes = plt.subplots(
        count, 1, figsize=(9, 0.8 + 2.4 * count), squeeze=False
    )
    for axis, (name, block) in zip(axes[:, 0], excitation.items(), strict=True):
        per_class = np.asarray(block["per_class"])
        deviation = per_class - per_class.mean(axis=0, keepdims=True)
        limit = max(float(np.abs(deviation).max()), 1e-6)
        shown = axis.imshow(
            deviation, aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit
        )
        classes = block["classes"]
        axis.set_yticks(range(len(classes)))
        axis.set_yticklabels(
            [class_names[c] if class_names else str(c) for c in classes],
            fontsize=7,
        )
        axis.set_xlabel("channel", fontsize=8)
        axis.set_title(
            f"{name}: class mean - mean over classes (spread "
            f"{block['spread']:.3f}, mean weight {per_class.mean():.2f})",
            fontsize=9,
        )
        figure.colorbar(shown, ax=axis, fraction=0.02, pad=0.01)
    figure.suptitle(title or "Channel excitation per class")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    return figure


def cc_excitation(
    excitation: dict[str, Any],
    image: ArrayLike | None = None,
    channels: int = 8,
    title: str = "CC excitation",
) -> "Figure":
    """A CC-block's excitation maps of one image, the `channels` most
    varied ones (`excitation` of shape `(H, W, C)`)."""
    plt = _pyplot()
    excitation = np.asarray(excitation)
    spread = excitation.reshape(-1, excitation.shape[-1]).std(axis=0)
    order = np.argsort(spread)[::-1][:channels]
    columns = len(order) + (image is not None)
    figure, axes = plt.subplots(1, columns, figsize=(2.2 * columns, 2.6))
    axes = np.atleast_1d(axes)
    start = 0
    if image is not None:
        axes[0].imshow(displayable(np.asarray(image)[None])[0])
        axes[0].set_title("image", fontsize=8)
        start = 1
    low, high = float(excitation.min()), float(excitation.max())
    for axis, channel in zip(axes[start:], order, strict=True):
        shown = axis.imshow(
            excitation[..., channel], cmap="magma", vmin=low, vmax=high
        )
        axis.set_title(f"channel {channel}", fontsize=8)
    for axis in axes:
        axis.axis("off")
    figure.colorbar(shown, ax=list(axes[start:]), fraction=0.02, pad=0.02)
    figure.suptitle(title)
    return figure


def affinity(
    matrices: dict[str, ArrayLike], title: str = "C3 channel affinity"
) -> "Figure":
    """C3's channel-to-channel affinities, `{title: (C, C)}` (e.g. the
    mean over images of each block's `"affinity"`)."""
    plt = _pyplot()
    count = len(matrices)
    figure, axes = plt.subplots(1, count, figsize=(4 * count, 3.8))
    axes = np.atleast_1d(axes)
    for axis, (name, matrix) in zip(axes, matrices.items(), strict=True):
        shown = axis.imshow(np.asarray(matrix), cmap="viridis")
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("heard channel j", fontsize=8)
        axis.set_ylabel("channel i", fontsize=8)
        figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.04)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def grad_cam_overlays(
    images: ArrayLike,
    heat_maps: ArrayLike,
    labels: ArrayLike | None = None,
    predictions: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
) -> "Figure":
    """Grad-CAM of several models side by side (e.g. with and without
    attention): `heat_maps` and `predictions` map a model's name to its
    `(N, H, W)` maps and `(N,)` predicted classes."""

    def caption(row, name):
        predicted = (predictions or {}).get(name)
        if predicted is None:
            return name
        return name + "\n" + _caption(row, None, predicted, class_names)

    return _overlay_grid(
        displayable(images),
        heat_maps,
        lambda row: _caption(row, labels, None, class_names),
        caption,
        inches=2.4,
        title="Grad-CAM",
        vmin=0,
        vmax=1,
    )


def _overlay_grid(
    images, columns, image_caption, map_caption, inches, title, **scale
):
    """One row per image: the image, then each column's map over it."""
    plt = _pyplot()
    count, width = len(images), 1 + len(columns)
    figure, axes = plt.subplots(
        count, width, figsize=(inches * width, inches * count), squeeze=False
    )
    for row in range(count):
        axes[row, 0].imshow(images[row])
        axes[row, 0].set_title(image_caption(row) or "image", fontsize=8)
        for column, (name, maps) in enumerate(columns.items(), start=1):
            axis = axes[row, column]
            axis.imshow(images[row])
            shown = axis.imshow(maps[row], cmap="jet", alpha=0.5, **scale)
            axis.set_title(map_caption(row, name), fontsize=8)
            figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.04)
    for axis in axes.flat:
        axis.axis("off")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def training_curves(history: Sequence[dict]) -> "Figure":
    """Loss and accuracy per epoch, training and validation.

    Args:
        history: rows of a run's history (`keras_chattn.training
            .read_history`, or `[dict(epoch=..., loss=..., ...)]`).

    Example:

        >>> from keras_chattn.plotting import training_curves
        >>> rows = [{"epoch": 1, "loss": 2.0, "val_loss": 2.1},
        ...         {"epoch": 2, "loss": 1.5, "val_loss": 1.7}]
        >>> [axis.get_title() for axis in training_curves(rows).axes]
        ['loss', 'accuracy']
    """
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [row.get(prefix + metric, np.nan) for row in history]
            label = ("validation " if prefix else "train ") + metric
            axis.plot(epochs, values, style, marker="o", label=label)
        axis.set(xlabel="epoch", title=metric)
        axis.set_xlim(0.5, max(epochs, default=1) + 0.5)
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    return figure


def trial_scores(
    rows: Sequence[dict], metric: str = "val_accuracy"
) -> "Figure":
    """A search's score per trial, coloured by block.

    Args:
        rows: the trials (`keras_chattn.tuning.search(...).rows`, or dicts
            with "block" and `metric`).
        metric: the score to plot. Defaults to "val_accuracy".

    Example:

        >>> from keras_chattn.plotting import trial_scores
        >>> rows = [{"block": "se", "val_accuracy": 0.5},
        ...         {"block": "none", "val_accuracy": 0.4}]
        >>> trial_scores(rows).axes[0].get_ylabel()
        'best val_accuracy'
    """
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 4))
    colours = plt.get_cmap("tab10")
    for index, block in enumerate(sorted({row["block"] for row in rows})):
        points = [
            (position, row[metric])
            for position, row in enumerate(rows)
            if row["block"] == block
        ]
        axis.scatter(
            *zip(*points, strict=True),
            color=colours(index % 10),
            label=block,
            s=60,
        )
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.set(xlabel="trial", ylabel=f"best {metric}")
    axis.grid(alpha=0.3)
    axis.legend(title="block")
    figure.tight_layout()
    return figure
