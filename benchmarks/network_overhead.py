"""What each attention block costs a whole network: training and inference
step ratios, memory, and the plain network's speed against the CPU's peak.

    python benchmarks/network_overhead.py                      # every config
    python benchmarks/network_overhead.py --configs cifar_resnet20 --rounds 9
    KERAS_BACKEND=jax python benchmarks/network_overhead.py

For each configuration (ResNet-50 with the ImageNet stem at 224 x 224,
batch 16; the same network at 32 x 32, batch 128; CIFAR ResNet-20 at
32 x 32, batch 128) the network is built once without attention and once
with every registry block (placed by the builders' own decision), each
compiled with SGD and sparse cross-entropy (`jit_compile=False` on
TensorFlow unless `--jit-compile`: XLA is slower on CPUs for these
networks; JAX always compiles). Every round times one training step
(forward + backward + update) and one inference step of every model,
the order reversed every other round so that drifting machine load hits
all alike; the ratio reported is the median over rounds of each round's
time divided by the plain network's in that round.

Also printed: the plain network's images/s and achieved GFLOP/s (3 x 2 x
the multiply-adds of `summary_table`, per image: the forward pass and a
backward pass of about twice its work), this machine's float32 matmul peak
measured in the same run, and the memory of a training step per block
(TensorFlow: the CPU allocator's peak during one step above what was in
use before it, plus the network's own weights and optimizer slots; JAX:
the compiled forward-and-backward's arguments + temporaries + outputs,
from XLA's memory analysis; PyTorch: not measured). `--applications`
adds `keras.applications.ResNet50` to the ResNet-50 configurations, so
that our plain network can be compared with Keras' own. Blocks are
measured `--group-size` at a time, each group in its own process with its
own plain network: a ratio is always to the plain network of the same
process and rounds.

Run it by hand; it is not part of the test suite. Results and the
reference figures: docs/results.md ("Network-level overhead").
"""

import argparse
import ast
import dataclasses
import json
import math
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import models  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Config:
    label: str
    builder: object
    input_shape: tuple
    classes: int
    batch: int
    resnet50: bool


CONFIGS = {
    "resnet50_224": Config(
        "ResNet-50, 224, batch 16", models.ResNet50, (224, 224, 3), 1000, 16,
        True,
    ),
    "resnet50_32": Config(
        "ResNet-50, 32, batch 128", models.ResNet50, (32, 32, 3), 10, 128,
        True,
    ),
    "cifar_resnet20": Config(
        "CIFAR ResNet-20, 32, batch 128", models.CifarResNet20, (32, 32, 3),
        10, 128, False,
    ),
}  # fmt: skip
APPLICATIONS = "keras.applications"


def build(config, block, jit_compile):
    if block == APPLICATIONS:
        model = keras.applications.ResNet50(
            weights=None,
            input_shape=config.input_shape,
            classes=config.classes,
        )
    else:
        name, kwargs = block_spec(block)
        model = config.builder(
            input_shape=config.input_shape,
            classes=config.classes,
            attention=None if name == "none" else name,
            attention_kwargs=kwargs or None,
        )
    compile_kwargs = {}
    if keras.backend.backend() == "tensorflow":
        compile_kwargs["jit_compile"] = jit_compile
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        **compile_kwargs,
    )
    return model


def block_spec(block):
    """`"danet[channels=512;reduction=4]"` -> ("danet", {"channels": 512,
    "reduction": 4}): a registry name with optional constructor arguments
    (Python literals), so that two forms of a block share a run."""
    match = re.fullmatch(r"([\w.]+)(?:\[(.*)\])?", block.strip())
    if match is None:
        raise ValueError(f"--blocks: cannot read {block!r}")
    kwargs = {}
    for item in filter(None, (match.group(2) or "").split(";")):
        key, _, value = item.partition("=")
        kwargs[key.strip()] = ast.literal_eval(value.strip())
    return match.group(1), kwargs


def timed(function, *args):
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def matmul_peak(size=2048, repeats=5):
    """Best float32 GFLOP/s of a `size` x `size` matmul on this backend."""
    a = keras.ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=(size, size)).astype("float32")
    )
    keras.ops.convert_to_numpy(keras.ops.matmul(a, a))
    best = min(
        timed(lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a, a)))
        for _ in range(repeats)
    )
    return 2 * size**3 / best / 1e9


def step_memory(model, x, y):
    """Bytes one training step needs, or None where not measurable.

    TensorFlow: the allocator's peak during the step above what was in
    use before it (the other networks of the process are not counted),
    plus this model's own variables (weights and optimizer slots).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        try:
            before = tf.config.experimental.get_memory_info("CPU:0")["current"]
        except ValueError:  # "Allocator stats not available" on some CPUs
            return None
        tf.config.experimental.reset_memory_stats("CPU:0")
        model.train_on_batch(x, y)
        peak = tf.config.experimental.get_memory_info("CPU:0")["peak"]
        variables = [*model.variables, *model.optimizer.variables]
        own = sum(
            math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables
        )
        return peak - before + own
    if backend == "jax":
        import jax

        loss_fn = keras.losses.SparseCategoricalCrossentropy()

        def loss(trainable, non_trainable, x, y):
            outputs, updated = model.stateless_call(
                trainable, non_trainable, x, training=True
            )
            return loss_fn(y, outputs), updated

        step = jax.jit(jax.value_and_grad(loss, has_aux=True))
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        analysis = step.lower(trainable, non_trainable, x, y).compile()
        stats = analysis.memory_analysis()
        return (
            stats.argument_size_in_bytes
            + stats.temp_size_in_bytes
            + stats.output_size_in_bytes
        )
    return None


def macs_per_image(model):
    return models.summary_table(model, print_fn=None)[-1]["macs"]


def measure(config, blocks, args):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(config.batch, *config.input_shape)).astype("float32")
    y = rng.integers(0, config.classes, size=(config.batch,))
    built = {}
    for block in blocks:
        model = build(config, block, args.jit_compile)
        for _ in range(args.warmup):
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
        built[block] = model

    train = {block: [] for block in blocks}
    infer = {block: [] for block in blocks}
    for round_index in range(args.rounds):
        order = blocks if round_index % 2 == 0 else blocks[::-1]
        for block in order:
            train[block].append(timed(built[block].train_on_batch, x, y))
            infer[block].append(timed(built[block].predict_on_batch, x))

    memory = {}
    if not args.no_memory:
        for block in blocks:
            memory[block] = step_memory(built[block], x, y)

    rows = []
    for block in blocks:
        train_ratios = [
            t / b for t, b in zip(train[block], train["none"], strict=True)
        ]
        infer_ratios = [
            t / b for t, b in zip(infer[block], infer["none"], strict=True)
        ]
        timed_rows = {}
        if args.rounds:
            timed_rows = {
                "train_s": statistics.median(train[block]),
                "train_ratio": statistics.median(train_ratios),
                "train_spread": (min(train_ratios), max(train_ratios)),
                "infer_s": statistics.median(infer[block]),
                "infer_ratio": statistics.median(infer_ratios),
            }
        rows.append(
            {
                "block": block,
                "params": built[block].count_params(),
                **timed_rows,
                "memory": memory.get(block),
            }
        )
    macs = macs_per_image(built["none"])
    return rows, macs


def print_table(config, rows, macs, peak, args):
    plain = rows[0]
    backend = keras.backend.backend()
    jit = {
        "tensorflow": args.jit_compile,
        "jax": "always (jax)",
    }.get(backend, "no (torch runs eagerly)")
    print(
        f"\n## {config.label} (backend={backend}, keras "
        f"{keras.__version__}, {os.cpu_count()} cores, rounds={args.rounds}, "
        f"jit_compile={jit})"
    )
    if "train_s" in plain:
        images = config.batch / plain["train_s"]
        achieved = 6 * macs * config.batch / plain["train_s"] / 1e9
        print(
            f"plain network: {plain['train_s'] * 1000:.0f} ms per training "
            f"step, {images:.1f} images/s, {achieved:.0f} GFLOP/s achieved "
            f"(6 x {macs / 1e6:.0f} M multiply-adds per image); "
            f"matmul peak {peak:.0f} GFLOP/s ({achieved / peak:.0%})"
        )
    memory_base = plain["memory"]
    print(
        "| block | params | train ms | train ratio (min-max) "
        "| infer ms | infer ratio | step memory MB | memory ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        if row["memory"] is None or memory_base is None:
            memory = "n/a | n/a"
        else:
            memory = (
                f"{row['memory'] / 2**20:.0f} | "
                f"{row['memory'] / memory_base:.2f}"
            )
        timing = "n/a | n/a | n/a | n/a"
        if "train_s" in row:
            low, high = row["train_spread"]
            timing = (
                f"{row['train_s'] * 1000:.0f} | {row['train_ratio']:.2f} "
                f"({low:.2f}-{high:.2f}) | {row['infer_s'] * 1000:.0f} "
                f"| {row['infer_ratio']:.2f}"
            )
        print(f"| {row['block']} | {row['params']:,} | {timing} | {memory} |")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help=f"comma-separated, from {', '.join(CONFIGS)}",
    )
    parser.add_argument(
        "--blocks",
        default=",".join(keras_chattn.ATTENTION_LAYERS),
        help="comma-separated registry blocks, each optionally with "
        "constructor arguments, e.g. 'danet[channels=512;reduction=4]'; "
        "the plain network is always measured first",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="timed rounds; 0 measures the step memory only",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="untimed steps per model before the rounds",
    )
    parser.add_argument(
        "--jit-compile",
        action="store_true",
        help="TensorFlow: compile with XLA (slower on CPUs)",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the per-block step memory (measured unless given)",
    )
    parser.add_argument(
        "--applications",
        action="store_true",
        help="also time keras.applications.ResNet50 in the ResNet-50 configs",
    )
    parser.add_argument(
        "--group-size",
        type=int,
        default=4,
        help="blocks per process, each process timing the plain network "
        "too (every network of a process is held at once)",
    )
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.configs.split(",")
    unknown = set(names) - set(CONFIGS)
    if unknown:
        parser.error(
            f"--configs: unknown {sorted(unknown)}; expected names from "
            f"{list(CONFIGS)}"
        )
    if args.rounds < 0:
        parser.error(f"--rounds must be >= 0, got {args.rounds}")
    if args.group_size < 1:
        parser.error(f"--group-size must be >= 1, got {args.group_size}")
    blocks = [b for b in args.blocks.split(",") if b and b != "none"]
    for block in blocks:
        if block != APPLICATIONS:
            keras_chattn.get_attention(block_spec(block)[0])  # typos
    if args.json_out:
        _measure_one(args, names[0], blocks)
        return
    argv = list(sys.argv[1:] if argv is None else argv)
    rest = _without_option(_without_option(argv, "--configs"), "--blocks")
    for name in names:
        config = CONFIGS[name]
        groups = [
            blocks[i : i + args.group_size]
            for i in range(0, len(blocks), args.group_size)
        ] or [[]]
        if args.applications and config.resnet50:
            groups[-1] = [*groups[-1], APPLICATIONS]
        results = []
        # One process per group: each holds its networks at once, and
        # TensorFlow does not give a finished network's memory back.
        with tempfile.TemporaryDirectory() as folder:
            for index, group in enumerate(groups):
                out = pathlib.Path(folder) / f"{index}.json"
                subprocess.run(
                    [
                        sys.executable, __file__, "--configs", name,
                        "--blocks", ",".join(group) or "none",
                        "--json-out", str(out), *rest,
                    ],
                    check=True,
                )  # fmt: skip
                results.append(json.loads(out.read_text()))
        rows = results[0]["rows"][:1]
        for result in results:
            rows += result["rows"][1:]
        peak = max(result["peak"] for result in results)
        print_table(config, rows, results[0]["macs"], peak, args)


def _measure_one(args, name, blocks):
    """One process's share: the plain network and `blocks`, to JSON."""
    peak = matmul_peak()
    rows, macs = measure(CONFIGS[name], ["none", *blocks], args)
    pathlib.Path(args.json_out).write_text(
        json.dumps({"rows": rows, "macs": macs, "peak": peak})
    )


def _without_option(argv, option):
    """`argv` without `option` and its value (`--x v` or `--x=v`)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            kept.append(arg)
    return kept


if __name__ == "__main__":
    main()
