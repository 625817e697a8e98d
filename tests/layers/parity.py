"""Parity with the authors' or timm's PyTorch modules, every weight moved.

`torch_modules` and timm build the reference module on random weights;
`run_torch` runs it on a channels_last batch; the `*_kernel` helpers turn a
PyTorch weight into the Keras layout; `check` asserts the largest absolute
difference and records it (`PARITY_TABLE=path` appends one line per check,
the table the docs quote).
"""

import os

import numpy as np
import pytest

from tests.harness import to_numpy


def torch():
    return pytest.importorskip("torch")


def timm_layers():
    from tests.pretrained.timm_reference import import_timm

    import_timm()
    import timm.layers

    return timm.layers


def seeded_inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def randomize_torch(module, seed=0):
    """Random parameters and BatchNorm statistics (a fresh module's zeros
    and ones would hide a wrongly moved weight); other buffers kept."""
    t = torch()
    generator = t.Generator().manual_seed(seed)
    parameters = {name for name, _ in module.named_parameters()}
    with t.no_grad():
        for name, tensor in module.state_dict().items():
            statistic = name.endswith(("running_mean", "running_var"))
            if not tensor.is_floating_point() or not (
                statistic or name in parameters
            ):
                continue  # fixed buffers (FcaNet's DCT filters) stay
            if "running_var" in name:
                value = t.rand(tensor.shape, generator=generator) + 0.5
            else:
                value = t.randn(tensor.shape, generator=generator) * 0.5
            tensor.copy_(value)
    return module.eval()


def run_torch(module, x_last):
    """`module` on a channels_last NumPy batch, the output channels_last."""
    t = torch()
    ndim = x_last.ndim
    to_first = (0, ndim - 1, *range(1, ndim - 1))
    to_last = (0, *range(2, ndim), 1)
    with t.no_grad():
        y = module(
            t.from_numpy(np.ascontiguousarray(x_last.transpose(to_first)))
        )
    return y.numpy().transpose(to_last)


def as_numpy(tensor):
    return tensor.detach().numpy().astype("float32")


def dense_kernel(weight):
    """A 1x1 convolution's or Linear's `(out, in, ...)` weight as a Dense
    kernel `(in, out)`."""
    w = as_numpy(weight)
    return w.reshape(w.shape[0], w.shape[1]).T


def conv_kernel(weight):
    """`(out, in / groups, *k)` as Keras' `(*k, in / groups, out)`."""
    w = as_numpy(weight)
    return w.transpose(*range(2, w.ndim), 1, 0)


def depthwise_kernel(weight):
    """`(C, 1, *k)` as DepthwiseConv's `(*k, C, 1)`."""
    w = as_numpy(weight)
    return w.transpose(*range(2, w.ndim), 0, 1)


def batchnorm_weights(norm):
    """A PyTorch BatchNorm's or GroupNorm's weights in Keras' order."""
    names = ("weight", "bias", "running_mean", "running_var")
    return [
        as_numpy(getattr(norm, n))
        for n in names
        if getattr(norm, n, None) is not None
    ]


def check(block, source, ours, theirs, tolerance):
    ours = to_numpy(ours)
    difference = float(np.abs(ours - theirs).max())
    largest = float(np.abs(theirs).max())
    table = os.environ.get("PARITY_TABLE")
    if table:
        with open(table, "a") as file:
            file.write(
                f"| {block} | {source} | {difference:.1e} | {largest:.1f} |\n"
            )
    print(f"{block} vs {source}: max |difference| {difference:.2e}")
    assert ours.shape == theirs.shape
    # Relative to the outputs' size (at least 1): float32 rounding scales
    # with the values.
    scale = max(1.0, largest)
    assert difference < tolerance * scale, (block, source, difference, scale)
