"""What an attention block costs on top of the convolution it follows.

Times one training step (forward + backward + SGD update) and one inference
step of `Conv2D(3x3) -> BatchNorm -> ReLU -> [block]` (for SK: the block in
place of the three) for every block in the registry and for no block,
interleaving the blocks round by round so that the machine's noise hits
them alike. Prints the median milliseconds and the ratio
to the no-block baseline of the same run.

    python benchmarks/layer_overhead.py --batch 32 --size 28 --channels 128

Run it by hand; it is not part of the test suite.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn.models import placement  # noqa: E402


def stage(block, size, channels):
    """Conv 3x3 -> BN -> ReLU -> block, or the block in place of the three
    for a block that replaces a convolution (SK), placed by the same
    decision as the model builders (`keras_chattn.models.placement`), with
    the arguments they would give it in a CIFAR network."""
    inputs = keras.Input((size, size, channels))
    spec = placement.attention_spec(block, scale="cifar")
    if placement.goes(spec, "replace_conv"):
        x = spec.apply_conv(inputs, channels, 1, "block")
    else:
        x = keras.layers.Conv2D(channels, 3, padding="same", use_bias=False)(
            inputs
        )
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        if spec is not None:
            x = spec.apply(x, "block")
    model = keras.Model(inputs, x, name=f"stage_{block}")
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    layer = model.get_layer("block") if spec is not None else None
    return model, (0 if layer is None else layer.count_params())


def timed(function, *args):
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000.0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--batch", type=int, default=32, help="batch size of the conv stage"
    )
    parser.add_argument(
        "--size", type=int, default=28, help="height and width of the map"
    )
    parser.add_argument(
        "--channels", type=int, default=128, help="channels of the map"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=20,
        help="timed rounds, block order reversed each round",
    )
    parser.add_argument(
        "--warmup", type=int, default=3, help="untimed steps before the rounds"
    )
    parser.add_argument(
        "--blocks",
        default=",".join(["none", *keras_chattn.ATTENTION_LAYERS]),
        help=("comma-separated registry names of the blocks to compare"),
    )
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    shape = (args.batch, args.size, args.size, args.channels)
    x = rng.normal(size=shape).astype("float32")
    y = rng.normal(size=shape).astype("float32")
    blocks = args.blocks.split(",")
    models = {name: stage(name, args.size, args.channels) for name in blocks}
    for model, _ in models.values():
        for _ in range(args.warmup):
            model.train_on_batch(x, y)
            model.predict_on_batch(x)

    train = {name: [] for name in blocks}
    infer = {name: [] for name in blocks}
    for _ in range(args.rounds):
        for name, (model, _) in models.items():
            train[name].append(timed(model.train_on_batch, x, y))
            infer[name].append(timed(model.predict_on_batch, x))

    base_train = statistics.median(train[blocks[0]])
    base_infer = statistics.median(infer[blocks[0]])
    print(
        f"backend={keras.backend.backend()} input={shape} "
        f"rounds={args.rounds} (median ms; ratio to '{blocks[0]}')"
    )
    print(
        f"{'block':<8}{'params':>10}{'train ms':>11}{'ratio':>8}"
        f"{'infer ms':>11}{'ratio':>8}"
    )
    for name in blocks:
        t, i = statistics.median(train[name]), statistics.median(infer[name])
        print(
            f"{name:<8}{models[name][1]:>10,}{t:>11.2f}{t / base_train:>8.2f}"
            f"{i:>11.2f}{i / base_infer:>8.2f}"
        )


if __name__ == "__main__":
    main()
