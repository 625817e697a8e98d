"""Multiply-adds, counted once from the graph, in two named conventions.

No block states its own cost: a block is traced on a symbolic example
(its speed paths in their direct forms, so the count is of its maths, not
of how a backend runs it), recording every layer it calls and every
`keras.ops` operation, and the record is counted:

- `weighted_macs`, the papers' convention (the SE and CBAM tables): the
  multiply-adds of the layers with weights, every Dense and convolution
  call (CBAM's shared MLP twice, once per pool, and its 7 x 7
  convolution) and every product with a weight (the CC-block's
  per-channel linear maps); nothing else.
- `macs`, ours: those plus the element-wise work the block's own
  operations do: one operation per element a reduction reads (global
  pooling), one per element a sum, difference, product or quotient writes
  (the rescaling, a residual addition), and the multiply-adds of products
  between activations (DANet's and C3's attention matrices). Activations,
  casts, reshapes and BatchNorm are not counted.

Keras layers outside the blocks (a network's own convolutions and Dense)
count their multiply-adds in both conventions.
"""

import contextlib
import math
import re

import keras
from keras.src.ops.operation import Operation

from keras_chattn.layers import _kernels

# Operations counted per element they read (reductions over a map) and per
# element they write (element-wise arithmetic).
REDUCTIONS = ("Mean", "Sum", "Max", "Min", "Logsumexp")
ARITHMETIC = ("Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Square")
PRODUCTS = ("Matmul", "Einsum")


def weighted_layer_macs(layer, inputs, outputs):
    """Multiply-adds of one call of a Dense or convolution layer (0 for
    any other layer): output positions times the kernel's size."""
    kernel = getattr(layer, "kernel", None)
    if kernel is None or not isinstance(
        layer,
        (
            keras.layers.Dense,
            keras.layers.Conv1D,
            keras.layers.Conv2D,
            keras.layers.Conv3D,
            keras.layers.DepthwiseConv1D,
            keras.layers.DepthwiseConv2D,
        ),
    ):
        return 0
    shape = tuple(keras.tree.flatten(outputs)[0].shape)[1:]
    if isinstance(layer, keras.layers.Dense):
        positions = shape[:-1]
    elif getattr(layer, "data_format", "channels_last") == "channels_first":
        positions = shape[1:]
    else:
        positions = shape[:-1]
    if None in positions:
        return None
    return math.prod(positions) * math.prod(kernel.shape)


def _size(tensor):
    shape = tuple(getattr(tensor, "shape", ()))
    return math.prod(shape) if None not in shape else None


def _einsum_macs(equation, operands):
    """Multiply-adds of an einsum: the product of every index's size."""
    inputs = equation.split("->")[0].split(",")
    sizes = {}
    for letters, operand in zip(inputs, operands, strict=False):
        for letter, size in zip(letters, operand.shape, strict=False):
            sizes[letter] = size
    if None in sizes.values():
        return None
    return math.prod(sizes.values())


def _operation_macs(operation, args, outputs):
    """Our convention's count for one `keras.ops` operation (see module)."""
    kind = type(operation).__name__
    tensors = [a for a in keras.tree.flatten(args) if hasattr(a, "shape")]
    if kind in REDUCTIONS and tensors:
        return _size(tensors[0])
    if kind in ARITHMETIC:
        return _size(keras.tree.flatten(outputs)[0])
    if kind == "Matmul" and len(tensors) == 2:
        first, second = (tuple(t.shape) for t in tensors)
        output = _size(keras.tree.flatten(outputs)[0])
        if output is None or first[-1] is None:
            return None
        return output * first[-1]
    if kind == "Einsum":
        equation = getattr(operation, "subscripts", None)
        if isinstance(equation, str):
            return _einsum_macs(re.sub(r"\s", "", equation), tensors)
    return 0


class _Tally:
    """Weighted and element-wise multiply-adds of one traced call."""

    def __init__(self):
        self.weighted = 0
        self.elementwise = 0

    def add(self, attribute, count):
        if count is None or getattr(self, attribute) is None:
            setattr(self, attribute, None)
        else:
            setattr(self, attribute, getattr(self, attribute) + count)


# Attributes of the blocks that hold activation functions: Keras'
# activations run backend code a symbolic tensor cannot enter, so the
# trace stands in a shape-keeping operation for them (activations are not
# counted).
ACTIVATION_ATTRIBUTES = ("activation", "gate", "output_activation")


class _Activation(Operation):
    """A stand-in for an activation function in the trace."""

    def call(self, x):  # pragma: no cover - only traced symbolically
        return x

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, dtype=x.dtype)


@contextlib.contextmanager
def _symbolic_activations(layer):
    saved = {}
    for name in ACTIVATION_ATTRIBUTES:
        value = getattr(layer, name, None)
        if callable(value) and not isinstance(value, keras.layers.Layer):
            saved[name] = value
            object.__setattr__(layer, name, _Activation())
    try:
        yield
    finally:
        for name, value in saved.items():
            object.__setattr__(layer, name, value)


def _recurses_into(layer):
    """Whether the trace follows a layer's own operations: this package's
    blocks (not its BatchNorm variant: BatchNorm is not counted)."""
    module = type(layer).__module__
    return module.startswith("keras_chattn.") and not isinstance(
        layer, keras.layers.BatchNormalization
    )


@contextlib.contextmanager
def _recording(tally):
    layer_call = keras.layers.Layer.__call__
    symbolic_call = Operation.symbolic_call

    def count_layer(layer, *args, **kwargs):
        if _recurses_into(layer):
            kwargs.pop("mask", None)
            with _symbolic_activations(layer):
                return layer.call(*args, **kwargs)
        outputs = layer_call(layer, *args, **kwargs)
        tally.add("weighted", weighted_layer_macs(layer, args, outputs))
        return outputs

    def count_operation(operation, *args, **kwargs):
        outputs = symbolic_call(operation, *args, **kwargs)
        if not isinstance(operation, keras.layers.Layer):
            count = _operation_macs(operation, args, outputs)
            # A product with a weight is a weighted layer written as an op
            # (the CC-block's per-channel linear maps).
            weighted = type(operation).__name__ in PRODUCTS and any(
                isinstance(a, keras.Variable) for a in keras.tree.flatten(args)
            )
            tally.add("weighted" if weighted else "elementwise", count)
        return outputs

    keras.layers.Layer.__call__ = count_layer
    Operation.symbolic_call = count_operation
    try:
        yield
    finally:
        keras.layers.Layer.__call__ = layer_call
        Operation.symbolic_call = symbolic_call


def block_macs(layer, input_shape):
    """`(weighted_macs, macs)` of one call of a built `layer` on one
    example of `input_shape` (with or without a batch axis: it is replaced
    by 1), or `(None, None)` where a size is unknown.

    Examples:

        >>> import keras_chattn
        >>> se = keras_chattn.SqueezeExcite(reduction=16)
        >>> se.build((None, 7, 7, 256))
        >>> block_macs(se, (None, 7, 7, 256))  # 2 * 256 * 16; + pool, scale
        (8192, 33280)
    """
    shapes = input_shape if _is_shape_list(input_shape) else [input_shape]
    shapes = [(1, *tuple(shape)[1:]) for shape in shapes]
    if any(None in shape for shape in shapes):
        return None, None
    inputs = [keras.KerasTensor(shape) for shape in shapes]
    tally = _Tally()
    with _kernels.direct_forms(), _recording(tally):
        layer(inputs if _is_shape_list(input_shape) else inputs[0])
    if tally.weighted is None or tally.elementwise is None:
        return None, None
    return tally.weighted, tally.weighted + tally.elementwise


def _is_shape_list(shape):
    return (
        isinstance(shape, (list, tuple))
        and len(shape) > 0
        and isinstance(shape[0], (list, tuple))
    )
