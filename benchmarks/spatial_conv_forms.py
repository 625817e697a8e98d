"""CBAM's spatial attention with its convolution banded or direct.

    python benchmarks/spatial_conv_forms.py
    KERAS_BACKEND=jax python benchmarks/spatial_conv_forms.py \\
        --shapes 128,32,32,16 16,14,14,1024

SpatialAttention computes its 7 x 7 convolution from 2 maps to 1 as
banded matrix products on maps of width <= `banded_conv.BANDED_MAX_WIDTH`
on TensorFlow and JAX (keras_chattn/layers/_kernels/banded_conv.py). This
times one
training step (forward + backward + SGD update, mean squared error against
a fixed target) of a model that is the layer alone, once with the banded
form and once with the direct Conv2D (the same weights), per input shape
(channels_last, batch first), on any width and backend: the measurement
behind `BANDED_MAX_WIDTH` and `BANDED_BACKENDS`; the last column says
which form the layer takes there by default. The form is chosen when a
step is traced, so each model is traced under its own setting and then
timed in interleaved rounds (order reversed every other round). Prints
median milliseconds and the median of the per-round ratios banded /
direct. Run by hand; not part of the test suite.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_chattn.layers import SpatialAttention  # noqa: E402
from keras_chattn.layers._kernels import banded_conv  # noqa: E402

DEFAULT_SHAPES = [
    "16,56,56,256",
    "128,32,32,16",
    "128,16,16,32",
    "128,8,8,64",
    "16,28,28,512",
    "16,14,14,1024",
]


def parse_shape(text, parser):
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        parser.error(f"--shapes: expected comma-separated ints, got {text!r}")
    if len(shape) != 4:
        parser.error(f"--shapes: expected 4 sizes in {text!r}")
    return shape


def traced_model(shape, banded, weights, x, y):
    """The layer alone, compiled, with `weights`, and traced (two warm-up
    steps) with the banded form forced on or off, whatever the width and
    the backend (so the table shows what the layer's choice is based on)."""
    original = banded_conv.BANDED_MAX_WIDTH, banded_conv.BANDED_BACKENDS
    banded_conv.BANDED_MAX_WIDTH = shape[2] if banded else 0
    banded_conv.BANDED_BACKENDS = (keras.backend.backend(),)
    try:
        inputs = keras.Input(shape[1:])
        model = keras.Model(inputs, SpatialAttention()(inputs))
        if weights is not None:
            model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        for _ in range(2):
            model.train_on_batch(x, y)
    finally:
        banded_conv.BANDED_MAX_WIDTH, banded_conv.BANDED_BACKENDS = original
    return model


def compare(shape, rounds):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype("float32")
    y = rng.normal(size=shape).astype("float32")
    direct = traced_model(shape, False, None, x, y)
    banded = traced_model(shape, True, direct.get_weights(), x, y)
    models = {"direct": direct, "banded": banded}
    times = {label: [] for label in models}
    for round_index in range(rounds):
        labels = list(models)
        for label in labels if round_index % 2 == 0 else labels[::-1]:
            started = time.perf_counter()
            models[label].train_on_batch(x, y)
            times[label].append(time.perf_counter() - started)
    ratios = [
        b / d for b, d in zip(times["banded"], times["direct"], strict=True)
    ]
    return (
        statistics.median(times["direct"]) * 1000,
        statistics.median(times["banded"]) * 1000,
        statistics.median(ratios),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=DEFAULT_SHAPES,
        help="input shapes, batch first, channels last",
    )
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds")
    args = parser.parse_args(argv)
    shapes = [parse_shape(text, parser) for text in args.shapes]
    print(
        f"SpatialAttention training step, backend={keras.backend.backend()}, "
        f"rounds={args.rounds}, banded up to width "
        f"{banded_conv.BANDED_MAX_WIDTH} on {banded_conv.BANDED_BACKENDS}"
    )
    print("| shape | direct ms | banded ms | banded / direct | default |")
    print("| --- | ---: | ---: | ---: | --- |")
    for shape in shapes:
        direct_ms, banded_ms, ratio = compare(shape, args.rounds)
        used = "banded" if banded_conv.use_banded(shape[2]) else "direct"
        print(
            f"| {'x'.join(map(str, shape))} | {direct_ms:.1f} | "
            f"{banded_ms:.1f} | {ratio:.2f} | {used} |"
        )


if __name__ == "__main__":
    main()
