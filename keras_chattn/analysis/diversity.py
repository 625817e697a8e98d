"""Channel diversity, the C3 poster's "Measure Diversity".

Reference: Yang et al., "Cross-Channel Communication Networks", NeurIPS 2019:
c_ij = <x_i - v_i, x_j - v_j> / (sigma_i sigma_j) over the spatial positions
of one layer's channels i, j, and d_l = (1 / n_l^2) sum_i sum_j |c_ij|.
Lower d means more diverse (less correlated) channels.
"""

import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops
from numpy.typing import ArrayLike

from keras_chattn.layers.cross_channel_comm import CrossChannelComm
from keras_chattn.utils import validation

CENTERINGS = ("spatial", "channels")
# A channel is dead in an image when the norm of its centred map is below
# this fraction of the norm of the image's largest channel: far above
# float32 round-off, far below any channel that carries a signal.
DEAD_RELATIVE_NORM = 1e-5


def channel_diversity(
    features: ArrayLike,
    data_format: str | None = None,
    exclude_diagonal: bool = False,
    reduce: bool = True,
    centering: str = "spatial",
    return_dead: bool = False,
) -> float | np.ndarray | tuple[float | np.ndarray, float | np.ndarray]:
    """Mean absolute correlation between the live channels of a map.

    For each image, every channel's map x_i (over the H * W positions) is
    centred, the correlations c_ij = <x_i', x_j'> / (|x_i'| |x_j'|) of the
    centred maps x' are taken, and d = mean over live i, j of |c_ij|:

    - `centering="spatial"` (the poster's equation, the default): x_i' is
      x_i minus its own mean over positions, so c_ij is the Pearson
      correlation of channels i and j.
    - `centering="channels"`: at each position the mean over channels is
      subtracted, as the C3 reference code's logged correlation does
      (jwyang/C3Net.pytorch, `_correlation`, which centres by `mean(1)` of
      a (batch, C, HW) tensor). That measures how channels deviate from the
      layer's average map, not the poster's c_ij; it is here to compare
      with the reference's logs.

    Dead channels, whose centred map is zero (for "spatial": constant over
    the positions, e.g. a ReLU channel that never fires), have no defined
    correlation and are left out of the average: counting them as
    uncorrelated would make a layer whose channels die look more diverse.
    The test is relative (scale-free): a channel is dead when the norm of
    its centred map is below `DEAD_RELATIVE_NORM` (1e-5) times the norm of
    the image's largest channel. An image with no live channel (or with a
    single one and `exclude_diagonal=True`) has no value: NaN, left out of
    the batch mean.

    For independent channels the diagonal's 1s and the sampling noise of
    finite maps keep d well above 0: with n positions E|c_ij| is about
    sqrt(2 / (pi (n - 1))) off the diagonal, so d is about
    1 / C + (1 - 1 / C) sqrt(2 / (pi (n - 1))) with the diagonal and
    sqrt(2 / (pi (n - 1))) without (0.156 and 0.101 for C = 16 on 8x8).

    Args:
        features: array of shape `(batch, height, width, channels)` (or
            `(batch, channels, height, width)` for `"channels_first"`).
        data_format: layout of `features`. Defaults to
            `keras.config.image_data_format()`.
        exclude_diagonal: average over the n (n - 1) pairs i != j of the n
            live channels instead of all n * n entries (whose diagonal is
            1).
        reduce: return the mean over the batch (a float) instead of one value
            per image (a NumPy array of shape `(batch,)`).
        centering: `"spatial"` (the poster) or `"channels"` (the reference
            code's logs). Defaults to `"spatial"`.
        return_dead: also return the number of dead channels (per image, or
            its mean over the batch with `reduce=True`).

    Returns:
        A float, or an array of one value per image; with `return_dead`, a
        pair `(diversity, dead_channels)`.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.analysis import channel_diversity
        >>> same = np.repeat(np.random.rand(2, 8, 8, 1), 4, axis=-1)
        >>> round(channel_diversity(same), 4)
        1.0
        >>> dead = np.concatenate([same, np.zeros((2, 8, 8, 4))], axis=-1)
        >>> d, n_dead = channel_diversity(dead, return_dead=True)
        >>> round(d, 4), n_dead
        (1.0, 4.0)
    """
    data_format = validation.data_format(data_format)
    validation.choice("centering", centering, CENTERINGS)
    x = ops.convert_to_tensor(np.asarray(features, dtype="float32"))
    if len(x.shape) != 4:
        raise ValueError(
            "channel_diversity expects 4-D features (batch, height, width, "
            f"channels). Received: features with shape {tuple(x.shape)}"
        )
    if data_format == "channels_first":
        x = ops.transpose(x, (0, 2, 3, 1))
    _, height, width, channels = x.shape
    rows = ops.reshape(x, (-1, height * width, channels))
    axis = 1 if centering == "spatial" else 2
    centred = rows - ops.mean(rows, axis=axis, keepdims=True)
    gram = ops.convert_to_numpy(
        ops.einsum("bkc,bkd->bcd", centred, centred)
    ).astype("float64")
    raw_norms = np.sqrt(ops.convert_to_numpy(ops.sum(ops.square(rows), 1)))
    norms = np.sqrt(np.maximum(np.diagonal(gram, axis1=1, axis2=2), 0.0))
    scale = raw_norms.astype("float64").max(axis=1, keepdims=True)
    alive = norms > DEAD_RELATIVE_NORM * scale  # (batch, C)
    safe = np.where(alive, norms, 1.0)
    magnitude = np.abs(gram / (safe[:, :, None] * safe[:, None, :]))
    pair_alive = alive[:, :, None] & alive[:, None, :]
    live = alive.sum(axis=1)
    if exclude_diagonal:
        pair_alive = pair_alive & ~np.eye(channels, dtype=bool)
        pairs = live * (live - 1)
    else:
        pairs = live * live
    total = np.where(pair_alive, magnitude, 0.0).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        per_image = np.where(pairs > 0, total / np.maximum(pairs, 1), np.nan)
    dead = (channels - live).astype("float64")
    if reduce:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all NaN
            per_image = float(np.nanmean(per_image))
        dead = float(dead.mean())
    return (per_image, dead) if return_dead else per_image


def diversity_report(
    model: keras.Model,
    images: ArrayLike,
    batch_size: int = 32,
    print_fn: Callable[[str], Any] | None = None,
    centering: str = "spatial",
) -> list[dict[str, Any]]:
    """Diversity of the input and output of every C3 block of a model.

    The poster's claim is that a C3 block's output is more diverse (lower d)
    than its input; this measures it on `images`, with `channel_diversity`
    (dead channels left out and counted).

    Args:
        model: a built functional or Sequential model.
        images: array of inputs for `model`.
        batch_size: images per forward pass.
        print_fn: called with each line of a table; None to print nothing.
        centering: passed to `channel_diversity`. Defaults to `"spatial"`.

    Returns:
        A list of dicts in network order: `layer`, `input_diversity`,
        `output_diversity` (means over the images, diagonal included as in
        the poster), `input_dead_channels` and `output_dead_channels` (the
        mean number of dead channels per image, left out of the diversity)
        and `more_diverse` (output below input).
    """
    blocks = [
        layer for layer in model.layers if isinstance(layer, CrossChannelComm)
    ]
    if not blocks:
        raise ValueError(
            f"diversity_report needs a model with CrossChannelComm (C3) "
            f"blocks; {model.name!r} has none."
        )
    probes = []
    for block in blocks:
        probes.extend([block.input, block.output])
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    probe = keras.Model(inputs, probes)
    images = np.asarray(images)
    values = [[] for _ in probes]
    dead = [[] for _ in probes]
    for start in range(0, len(images), batch_size):
        outputs = probe(images[start : start + batch_size], training=False)
        for index, (features, block) in enumerate(
            zip(outputs, [b for b in blocks for _ in (0, 1)], strict=True)
        ):
            per_image, dead_channels = channel_diversity(
                features,
                block.data_format,
                reduce=False,
                centering=centering,
                return_dead=True,
            )
            values[index].extend(per_image)
            dead[index].extend(dead_channels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN
        means = [float(np.nanmean(v)) for v in values]
    dead_means = [float(np.mean(d)) for d in dead]
    rows = [
        {
            "layer": block.name,
            "input_diversity": means[2 * i],
            "output_diversity": means[2 * i + 1],
            "input_dead_channels": dead_means[2 * i],
            "output_dead_channels": dead_means[2 * i + 1],
            "more_diverse": bool(means[2 * i + 1] < means[2 * i]),
        }
        for i, block in enumerate(blocks)
    ]
    if print_fn is not None:
        print_fn(
            f"{'C3 block':<22}{'input d':>10}{'output d':>10}"
            f"{'dead in':>9}{'dead out':>10}  more diverse"
        )
        for row in rows:
            print_fn(
                f"{row['layer']:<22}{row['input_diversity']:>10.4f}"
                f"{row['output_diversity']:>10.4f}"
                f"{row['input_dead_channels']:>9.1f}"
                f"{row['output_dead_channels']:>10.1f}  {row['more_diverse']}"
            )
    return rows
