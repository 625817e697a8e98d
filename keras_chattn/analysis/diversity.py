"""Channel diversity, the C3 poster's "Measure Diversity".

Reference: Yang et al., "Cross-Channel Communication Networks", NeurIPS 2019:
c_ij = <x_i - v_i, x_j - v_j> / (sigma_i sigma_j) over the spatial positions
of one layer's channels i, j, and d_l = (1 / n_l^2) sum_i sum_j |c_ij|.
Lower d means more diverse (less correlated) channels.
"""

import keras
import numpy as np
from keras import ops

from keras_chattn.layers import validation
from keras_chattn.layers.cross_channel_comm import CrossChannelComm

# A channel whose variance over positions is below this counts as constant.
_ZERO_VARIANCE = 1e-12


def channel_diversity(
    features, data_format=None, exclude_diagonal=False, reduce=True
):
    """Mean absolute Pearson correlation between the channels of a map.

    Args:
        features: array of shape `(batch, height, width, channels)` (or
            `(batch, channels, height, width)` for `"channels_first"`).
        data_format: layout of `features`. Defaults to
            `keras.config.image_data_format()`.
        exclude_diagonal: average over the C * (C - 1) pairs i != j instead
            of all C * C entries (whose diagonal is 1 for every non-constant
            channel).
        reduce: return the mean over the batch (a float) instead of one value
            per image (a NumPy array of shape `(batch,)`).

    Channels that are constant over the positions of an image have no
    defined correlation: they count as uncorrelated with every channel,
    themselves included, never as NaN. With a single channel and
    `exclude_diagonal=True` there are no pairs and the result is 0.

    Returns:
        A float, or an array of one value per image.

    Example:

    >>> import numpy as np
    >>> from keras_chattn.analysis import channel_diversity
    >>> same = np.repeat(np.random.rand(2, 8, 8, 1), 4, axis=-1)
    >>> round(channel_diversity(same), 4)
    1.0
    """
    data_format = validation.data_format(data_format)
    x = ops.convert_to_tensor(np.asarray(features, dtype="float32"))
    if len(x.shape) != 4:
        raise ValueError(
            "channel_diversity expects 4-D features (batch, height, width, "
            f"channels). Received: features with shape {tuple(x.shape)}"
        )
    if data_format == "channels_first":
        x = ops.transpose(x, (0, 2, 3, 1))
    batch, height, width, channels = x.shape
    rows = ops.reshape(x, (-1, height * width, channels))
    centred = rows - ops.mean(rows, axis=1, keepdims=True)
    covariance = ops.einsum("bkc,bkd->bcd", centred, centred) / (height * width)
    variance = ops.mean(ops.square(centred), axis=1)  # (batch, C)
    alive = ops.cast(variance > _ZERO_VARIANCE, "float32")
    scale = ops.sqrt(ops.maximum(variance, _ZERO_VARIANCE))
    correlation = covariance / (
        ops.expand_dims(scale, -1) * ops.expand_dims(scale, -2)
    )
    pair_alive = ops.expand_dims(alive, -1) * ops.expand_dims(alive, -2)
    magnitude = ops.abs(correlation) * pair_alive
    if exclude_diagonal:
        magnitude = magnitude * (1.0 - ops.eye(channels, dtype="float32"))
        pairs = channels * (channels - 1)
    else:
        pairs = channels * channels
    per_image = ops.convert_to_numpy(ops.sum(magnitude, axis=(1, 2)))
    per_image = per_image / pairs if pairs else np.zeros_like(per_image)
    return float(per_image.mean()) if reduce else per_image


def diversity_report(model, images, batch_size=32, print_fn=None):
    """Diversity of the input and output of every C3 block of a model.

    The poster's claim is that a C3 block's output is more diverse (lower d)
    than its input; this measures it on `images`.

    Args:
        model: a built functional or Sequential model.
        images: array of inputs for `model`.
        batch_size: images per forward pass.
        print_fn: called with each line of a table; None to print nothing.

    Returns:
        A list of dicts in network order: `layer`, `input_diversity`,
        `output_diversity` (means over the images, diagonal included as in
        the poster) and `more_diverse` (output below input).
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
    sums = np.zeros(len(probes))
    for start in range(0, len(images), batch_size):
        outputs = probe(images[start : start + batch_size], training=False)
        for index, (features, block) in enumerate(
            zip(outputs, [b for b in blocks for _ in (0, 1)], strict=True)
        ):
            per_image = channel_diversity(
                features, block.data_format, reduce=False
            )
            sums[index] += per_image.sum()
    means = sums / len(images)
    rows = [
        {
            "layer": block.name,
            "input_diversity": float(means[2 * i]),
            "output_diversity": float(means[2 * i + 1]),
            "more_diverse": bool(means[2 * i + 1] < means[2 * i]),
        }
        for i, block in enumerate(blocks)
    ]
    if print_fn is not None:
        print_fn(
            f"{'C3 block':<22}{'input d':>10}{'output d':>10}  more diverse"
        )
        for row in rows:
            print_fn(
                f"{row['layer']:<22}{row['input_diversity']:>10.4f}"
                f"{row['output_diversity']:>10.4f}  {row['more_diverse']}"
            )
    return rows
