"""What each attention block of a model costs: parameters and multiply-adds."""

import math
from collections.abc import Callable
from typing import Any

import keras

from keras_chattn.layers.base import AttentionLayer
from keras_chattn.layers.cross_layer_pooling import CrossLayerPooling

# Layers of this package that count their own multiply-adds and get a row:
# the attention blocks and the network-level bridge head.
ATTENTION_TYPES = (AttentionLayer, CrossLayerPooling)


def _count(weights):
    return int(sum(math.prod(w.shape) for w in weights))


def _shape(tensor):
    """A tensor's shape; a list of shapes for a layer with several inputs."""
    if isinstance(tensor, (list, tuple)):
        return [tuple(t.shape) for t in tensor]
    return tuple(tensor.shape)


def layer_macs(layer):
    """Multiply-adds of one call of `layer` per example, or None if unknown.

    Conv2D, DepthwiseConv2D and Dense are counted from their input and output
    shapes; attention blocks and the bridge head count themselves (their
    `macs`); other layers (activations, pooling, BatchNorm, additions)
    count 0.
    """
    if isinstance(layer, ATTENTION_TYPES):
        return layer.macs(_shape(layer.input))
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
        out_shape = _shape(layer.output)[1:]
        if None in out_shape:
            return None
        kernel = layer.kernel.shape
        # Per output element: kh * kw * (input channels per group).
        per_output = kernel[0] * kernel[1] * kernel[2]
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            per_output = kernel[0] * kernel[1]
        return math.prod(out_shape) * per_output
    if isinstance(layer, keras.layers.Dense):
        in_shape = _shape(layer.input)[1:]
        if None in in_shape:
            return None
        return math.prod(in_shape) * layer.units
    return 0


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

    The bridge head (`head="bridge"`, a `CrossLayerPooling` named
    `bridge_pool`) gets a row of its own and counts in the attention totals.

    Args:
        model: a built functional or Sequential model.
        print_fn: called with each line of a formatted table; None to print
            nothing.

    Returns:
        A list (`SummaryRows`, whose repr is one line) of dicts, one per
        attention block in network order (`name`,
        `class`, `input_shape`, `params`, `macs`), then a last row named
        `"total"` for the whole model (its `params` are all weights,
        trainable or not; `macs` None when a spatial size is unknown) with
        `attention_params` and `attention_macs`.

    Examples:

        >>> import keras_chattn
        >>> model = keras_chattn.models.cifar_resnet(20, attention="se")
        >>> rows = keras_chattn.models.summary_table(model, print_fn=None)
        >>> rows[0]["name"], rows[0]["params"], rows[-1]["name"]
        ('conv2_block1_attention', 49, 'total')
        >>> rows
        <9 attention rows and a total: 273,471 parameters, 2,373 in attention>
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            "model must be a keras.Model (build it first, e.g. "
            "keras_chattn.models.build_model('resnet50')). Received: "
            f"model={model!r}"
        )
    rows = []
    total_macs = 0
    for layer in model.layers:
        macs = layer_macs(layer)
        if total_macs is not None:
            total_macs = None if macs is None else total_macs + macs
        if isinstance(layer, ATTENTION_TYPES):
            rows.append(
                {
                    "name": layer.name,
                    "class": type(layer).__name__,
                    "input_shape": _shape(layer.input),
                    "params": _count(layer.weights),
                    "macs": macs,
                }
            )
    attention_macs = [row["macs"] for row in rows]
    rows.append(
        {
            "name": "total",
            "class": type(model).__name__,
            "input_shape": _shape(model.inputs[0]),
            "params": _count(model.weights),
            "macs": total_macs,
            "attention_params": sum(row["params"] for row in rows),
            "attention_macs": (
                None if None in attention_macs else sum(attention_macs)
            ),
        }
    )
    if print_fn is not None:
        _print_table(rows, print_fn)
    return SummaryRows(rows)


def _print_table(rows, print_fn):
    def fmt(value):
        return "?" if value is None else f"{value:,}"

    print_fn(f"{'layer':<28}{'class':<18}{'params':>12}{'MACs':>16}")
    for row in rows[:-1]:
        print_fn(
            f"{row['name']:<28}{row['class']:<18}{fmt(row['params']):>12}"
            f"{fmt(row['macs']):>16}"
        )
    total = rows[-1]
    print_fn(
        f"{'attention (all blocks)':<46}{fmt(total['attention_params']):>12}"
        f"{fmt(total['attention_macs']):>16}"
    )
    print_fn(f"{'model':<46}{fmt(total['params']):>12}{fmt(total['macs']):>16}")
