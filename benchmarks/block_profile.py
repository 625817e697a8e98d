"""Where a block's time goes: the block alone, and with parts switched off.

    python benchmarks/block_profile.py --block c3 --shape 128,2,2,1024 \\
        --variant '{"communication": false}' \\
        --variant '{"encoder_decoder": false}'
    python benchmarks/block_profile.py --block cbam --shape 128,32,32,16 \\
        --variant '{"use_spatial": false}' \\
        --variant '{"use_spatial": false, "pool_types": ["avg"]}'

Times one training step (forward + backward + SGD update, mean squared
error against a fixed target) of a model that is the block alone on an
input of `--shape` (channels_last, batch first), for the block with its
defaults, for each `--variant` (constructor arguments as JSON, added to
the defaults) and for a baseline that only scales its input by a learned
scalar (the cost of reading and writing the map once, and of the step
itself). Interleaved rounds, median milliseconds; the difference between
two rows is what the switched-off part costs. Any backend
(`KERAS_BACKEND`). Run by hand; not part of the test suite.
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402


@keras.saving.register_keras_serializable(package="keras_chattn_benchmarks")
class LearnedScale(keras.layers.Layer):
    """`x * s` with one learned scalar: the baseline."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones")

    def call(self, inputs):
        return inputs * keras.ops.cast(self.scale, inputs.dtype)


def model_of(layer, shape):
    inputs = keras.Input(shape[1:])
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--block",
        required=True,
        choices=sorted(keras_chattn.ATTENTION_LAYERS),
        help="registry name of the block",
    )
    parser.add_argument(
        "--shape",
        required=True,
        help="input shape, batch first, channels last: e.g. 128,32,32,16",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="constructor arguments as JSON (repeatable)",
    )
    parser.add_argument(
        "--kwargs",
        default="{}",
        help="constructor arguments of every row as JSON, e.g. SK's "
        "'{\"filters\": 64}'",
    )
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds")
    args = parser.parse_args(argv)
    try:
        shape = tuple(int(v) for v in args.shape.split(","))
    except ValueError:
        parser.error(f"--shape: expected comma-separated ints: {args.shape}")
    if len(shape) != 4:
        parser.error(f"--shape: expected 4 sizes, got {len(shape)}")
    try:
        common = json.loads(args.kwargs)
    except json.JSONDecodeError as error:
        parser.error(f"--kwargs {args.kwargs!r} is not JSON: {error}")
    variants = {"defaults": common}
    for text in args.variant:
        try:
            variants[text] = {**common, **json.loads(text)}
        except json.JSONDecodeError as error:
            parser.error(f"--variant {text!r} is not JSON: {error}")

    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype("float32")
    y = rng.normal(size=shape).astype("float32")
    block = keras_chattn.get_attention(args.block)
    models = {"baseline (x * s)": model_of(LearnedScale(), shape)}
    for label, kwargs in variants.items():
        models[label] = model_of(block(**kwargs), shape)
    for model in models.values():
        for _ in range(3):
            model.train_on_batch(x, y)
    times = {label: [] for label in models}
    for round_index in range(args.rounds):
        labels = list(models)
        for label in labels if round_index % 2 == 0 else labels[::-1]:
            started = time.perf_counter()
            models[label].train_on_batch(x, y)
            times[label].append(time.perf_counter() - started)
    print(
        f"{args.block} on {shape}, backend={keras.backend.backend()}, "
        f"rounds={args.rounds}: training step, median ms"
    )
    base = statistics.median(times["baseline (x * s)"])
    print("| variant | ms | minus baseline |")
    print("| --- | ---: | ---: |")
    for label, values in times.items():
        ms = statistics.median(values)
        print(f"| {label} | {ms * 1000:.1f} | {(ms - base) * 1000:.1f} |")


if __name__ == "__main__":
    main()
