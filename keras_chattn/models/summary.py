"""What each attention block of a model costs: parameters and multiply-adds."""

import math
from collections.abc import Callable
from typing import Any

import keras

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.cross_layer_pooling import CrossLayerPooling
from keras_chattn.layers.identity_start import IdentityStart
from keras_chattn.models import costs

# Layers of this package that get a row: the attention blocks (also
# wrapped to start as the identity) and the network-level bridge head.
ATTENTION_TYPES = (AttentionLayer, CrossLayerPooling, IdentityStart)


def _count(weights):
    return int(sum(math.prod(w.shape) for w in weights))


def _shape(tensor):
    """A tensor's shape; a list of shapes for a layer with several inputs."""
    if isinstance(tensor, (list, tuple)):
        return [tuple(t.shape) for t in tensor]
    return tuple(tensor.shape)


def layer_macs(layer):
    """`(weighted_macs, macs)` of one call of `layer` per example (see
    `keras_chattn.models.costs`), None where a size is unknown.

    Dense and convolution layers count their multiply-adds in both
    conventions; this package's blocks are traced; other layers
    (activations, pooling, BatchNorm, additions) count 0.
    """
    if isinstance(layer, ATTENTION_TYPES):
        return costs.block_macs(layer, _shape(layer.input))
    count = costs.weighted_layer_macs(layer, layer.input, layer.output)
    return count, count


class SummaryRows(list):
    """The rows `summary_table` returns: a plain list of dicts whose repr
    is one line, so that `summary_table(model)` at a prompt prints the
    table once instead of echoing every row after it."""

    def __repr__(self):
        if not self:
            return "SummaryRows([])"
        total = self[-1]
        return (
            f"<{len(self) - 1} attention rows and a total: "
            f"{total['params']:,} parameters, "
            f"{total['attention_params']:,} in attention>"
        )


def summary_table(
    model: keras.Model, print_fn: Callable[[str], Any] | None = print
) -> SummaryRows:
    """Parameters and multiply-adds of every attention block and the model.

    Multiply-adds come in two conventions, both counted from the graph
    (`keras_chattn.models.costs`): `weighted_macs`, the papers' (Dense and
    convolution layers only: ResNet-50 3.858 G, with SE 3.860 G, with CBAM
    3.864 G, as the CBAM paper's table), and `macs`, ours (also the
    blocks' pooling, rescaling and other element-wise work). The bridge
    head (`head="bridge"`, a `CrossLayerPooling` named `bridge_pool`) and
    blocks wrapped in `IdentityStart` get rows too and count in the
    attention totals.

    Args:
        model: a built functional or Sequential model.
        print_fn: called with each line of a formatted table; None to print
            nothing.

    Returns:
        A list (`SummaryRows`, whose repr is one line) of dicts, one per
        attention block in network order (`name`, `class`, `input_shape`,
        `params`, `weighted_macs`, `macs`), then a last row named `"total"`
        for the whole model (its `params` are all weights, trainable or
        not; the counts None when a spatial size is unknown) with
        `attention_params`, `attention_weighted_macs` and `attention_macs`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.cifar_resnet(20, attention="se")
        >>> rows = keras_chattn.models.summary_table(model, print_fn=None)
        >>> rows[0]["name"], rows[0]["params"], rows[-1]["name"]
        ('conv2_block1_attention', 49, 'total')
        >>> rows[0]["weighted_macs"], rows[0]["macs"]  # 2*16*1; + 2*16*32*32
        (32, 32800)
        >>> rows
        <9 attention rows and a total: 273,471 parameters, 2,373 in attention>
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            "model must be a keras.Model (build it first, e.g. "
            "keras_chattn.models.build_model('resnet50')). Received: "
            f"model={model!r}"
        )
    if print_fn is not None and not callable(print_fn):
        raise ValueError(
            "print_fn must be a callable taking a line (print, say) or None. "
            f"Received: print_fn={print_fn!r}"
        )
    rows = []
    totals = [0, 0]
    for layer in model.layers:
        counts = layer_macs(layer)
        totals = [_plus(t, c) for t, c in zip(totals, counts, strict=True)]
        if isinstance(layer, ATTENTION_TYPES):
            rows.append(
                {
                    "name": layer.name,
                    "class": type(layer).__name__,
                    "input_shape": _shape(layer.input),
                    "params": _count(layer.weights),
                    "weighted_macs": counts[0],
                    "macs": counts[1],
                }
            )
    rows.append(
        {
            "name": "total",
            "class": type(model).__name__,
            "input_shape": _shape(model.inputs[0]),
            "params": _count(model.weights),
            "weighted_macs": totals[0],
            "macs": totals[1],
            "attention_params": sum(row["params"] for row in rows),
            "attention_weighted_macs": _sum(r["weighted_macs"] for r in rows),
            "attention_macs": _sum(row["macs"] for row in rows),
        }
    )
    if print_fn is not None:
        _print_table(rows, print_fn)
    return SummaryRows(rows)


def _plus(total, count):
    return None if total is None or count is None else total + count


def _sum(counts):
    total = 0
    for count in counts:
        total = _plus(total, count)
    return total


def _print_table(rows, print_fn):
    def fmt(value):
        return "?" if value is None else f"{value:,}"

    def line(label, params, weighted, macs):
        return f"{label:<46}{params:>12}{weighted:>16}{macs:>16}"

    print_fn(line("layer (class)", "params", "weighted MACs", "MACs"))
    for row in rows[:-1]:
        label = f"{row['name']} ({row['class']})"
        print_fn(
            line(
                label,
                fmt(row["params"]),
                fmt(row["weighted_macs"]),
                fmt(row["macs"]),
            )
        )
    total = rows[-1]
    print_fn(
        line(
            "attention (all blocks)",
            fmt(total["attention_params"]),
            fmt(total["attention_weighted_macs"]),
            fmt(total["attention_macs"]),
        )
    )
    print_fn(
        line(
            "model",
            fmt(total["params"]),
            fmt(total["weighted_macs"]),
            fmt(total["macs"]),
        )
    )
