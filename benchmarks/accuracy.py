"""Validation accuracy of attention blocks over several seeds, on real CIFAR.

    python benchmarks/accuracy.py \\
        --data-dir ../shared/data/cifar-10-batches-py --model cifar_resnet20 \\
        --blocks none,se,cbam,c3,cc,ba --seeds 3 --epochs 30 \\
        --runs runs/accuracy.jsonl

    python benchmarks/accuracy.py --study defaults --data-dir ... --seeds 3 \\
        --epochs 30 --runs runs/defaults.jsonl

`--study blocks` (the default) trains `--model` with each block of
`--blocks`; `--study defaults` trains CIFAR ResNet-20 without a block under
the builder's paper defaults, a plain Keras ResNet-20 written by hand with
Keras' own defaults, and the paper defaults with one Keras default swapped
in at a time (projection shortcuts, BatchNorm momentum 0.99, Glorot
initialisation, no warm-up), to find which default costs accuracy.

Every run uses the package's CIFAR recipe (`keras_chattn.training`: SGD with
Nesterov momentum, learning rate 0.1 x batch / 128, warm-up then cosine,
weight decay 5e-4, pad-and-crop + flip augmentation) and the tf.data
pipeline, with one seed for weights, data order and augmentation. Runs go in
seed-major order (every configuration at seed 0, then seed 1, ...), so an
interrupted benchmark has compared every configuration on the same seeds;
each finished run is appended to `--runs` (JSON lines), and running the same
command again skips the runs already there.

Printed per configuration: validation accuracy of the last epoch as mean +-
sample standard deviation over seeds (the last epoch, not the best one:
picking the best epoch on the validation images would flatter every
configuration), the mean of the best epoch for reference, parameters, and
training images per second (median over epochs after the first, validation
excluded). A Markdown table for docs/results.md follows.
"""

import argparse
import json
import math
import os
import pathlib
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import data  # noqa: E402
from keras_chattn import training  # noqa: E402

# The CIFAR ResNet-20 defaults a user of plain Keras gets, one at a time.
KERAS_DEFAULTS = {
    "shortcut": "B",
    "batchnorm_momentum": 0.99,
    "kernel_initializer": "glorot_uniform",
}


def keras_resnet20(classes, input_shape=(32, 32, 3)):
    """ResNet-20 written with plain Keras layers and their defaults.

    What a user writes by hand from He et al.'s section 4.2: Conv2D with its
    default Glorot initialisation and bias, BatchNormalization with its
    default momentum 0.99 and epsilon 1e-3, and a 1x1 convolution + BN
    shortcut where the shape changes. Independent of keras_chattn's
    builders, as the control of the defaults study.
    """
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(16, 3, padding="same")(inputs)
    x = keras.layers.Activation("relu")(keras.layers.BatchNormalization()(x))
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            strides = 2 if stage and not block else 1
            y = keras.layers.Conv2D(filters, 3, strides, padding="same")(x)
            y = keras.layers.BatchNormalization()(y)
            y = keras.layers.Activation("relu")(y)
            y = keras.layers.Conv2D(filters, 3, padding="same")(y)
            y = keras.layers.BatchNormalization()(y)
            if strides != 1 or x.shape[-1] != filters:
                x = keras.layers.Conv2D(filters, 1, strides)(x)
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("relu")(keras.layers.Add()([x, y]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="keras_resnet20")


def block_configs(args):
    """One configuration per block of `--blocks` on `--model`."""
    model_kwargs = json.loads(args.model_kwargs)
    configs = []
    for block in args.blocks.split(","):
        attention = None if block == "none" else block

        def build(classes, attention=attention):
            return keras_chattn.models.build_model(
                args.model,
                input_shape=(32, 32, 3),
                classes=classes,
                attention=attention,
                **model_kwargs,
            )

        configs.append((block, build, {}))
    return configs


def defaults_configs(args):
    """The defaults study: paper defaults, hand-written Keras, one swap each."""

    def ours(**kwargs):
        return lambda classes: keras_chattn.models.cifar_resnet(
            20, classes=classes, **kwargs
        )

    configs = [
        ("paper defaults (A, bn 0.9, he_normal, warm-up)", ours(), {}),
        ("plain Keras (B, bn 0.99, glorot, bias)", keras_resnet20, {}),
    ]
    for key, value in KERAS_DEFAULTS.items():
        label = f"paper defaults, {key}={value}"
        configs.append((label, ours(**{key: value}), {}))
    configs.append(("paper defaults, no warm-up", ours(), {"warmup_epochs": 0}))
    return configs


class EpochTimer(keras.callbacks.Callback):
    """Seconds of each epoch's training part (validation excluded)."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._started = None

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_test_begin(self, logs=None):
        if self._started is not None:
            self.seconds.append(time.perf_counter() - self._started)
            self._started = None


def train_once(label, build, recipe_kwargs, seed, args):
    keras.utils.set_random_seed(seed)
    classes = data.LAYOUTS[args.dataset].classes
    train, test = (
        data.cifar_dataset(
            args.dataset,
            split,
            batch_size=args.batch_size,
            data_dir=args.data_dir,
            seed=seed,
            limit=args.limit,
        )
        for split in ("train", "test")
    )
    model = build(classes)
    recipe = training.cifar_recipe(
        epochs=args.epochs,
        steps_per_epoch=len(train),
        batch_size=args.batch_size,
        classes=classes,
        **recipe_kwargs,
    )
    recipe.compile(model)
    timer = EpochTimer()
    history = model.fit(
        train,
        validation_data=test,
        epochs=args.epochs,
        callbacks=[*recipe.callbacks, timer],
        verbose=0,
    ).history
    images = sum(1 for _ in train.unbatch())
    steady = timer.seconds[1:] or timer.seconds
    return {
        "config": label,
        "seed": seed,
        "epochs": args.epochs,
        "final_val_accuracy": history["val_accuracy"][-1],
        "best_val_accuracy": max(history["val_accuracy"]),
        "final_train_accuracy": history["accuracy"][-1],
        "parameters": model.count_params(),
        "images_per_s": images / statistics.median(steady),
    }


def summarise(label, runs):
    finals = [r["final_val_accuracy"] for r in runs]
    mean = statistics.fmean(finals)
    std = statistics.stdev(finals) if len(finals) > 1 else math.nan
    return {
        "config": label,
        "seeds": len(runs),
        "mean": mean,
        "std": std,
        "best_mean": statistics.fmean(r["best_val_accuracy"] for r in runs),
        "parameters": runs[0]["parameters"],
        "images_per_s": statistics.median(r["images_per_s"] for r in runs),
    }


def print_tables(rows):
    print(
        f"\n{'configuration':<52}{'seeds':>6}{'val acc (last)':>18}"
        f"{'best':>8}{'params':>11}{'img/s':>8}"
    )
    for row in rows:
        print(
            f"{row['config']:<52}{row['seeds']:>6}"
            f"{row['mean']:>11.4f} +- {row['std']:.4f}"
            f"{row['best_mean']:>8.4f}{row['parameters']:>11,}"
            f"{row['images_per_s']:>8.0f}"
        )
    print(
        "\n| configuration | seeds | val accuracy, last epoch (mean +- std) "
        "| best epoch (mean) | parameters | train images/s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['config']} | {row['seeds']} | {row['mean']:.4f} +- "
            f"{row['std']:.4f} | {row['best_mean']:.4f} | "
            f"{row['parameters']:,} | {row['images_per_s']:.0f} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--study",
        choices=["blocks", "defaults"],
        default="blocks",
        help=(
            "blocks: each block with its defaults; defaults: "
            "the settings that differ between papers and code"
        ),
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help=(
            "a cifar-10-batches-py folder (or its parent); "
            "unset: $KERAS_CHATTN_DATA_DIR, then "
            "tensorflow-datasets"
        ),
    )
    parser.add_argument(
        "--dataset",
        default="cifar10",
        choices=["cifar10", "cifar100"],
        help="which CIFAR",
    )
    parser.add_argument(
        "--model",
        default="cifar_resnet20",
        help=("builder name from keras_chattn.models.MODEL_BUILDERS"),
    )
    parser.add_argument(
        "--model-kwargs",
        default="{}",
        help="JSON object of extra builder arguments, e.g. "
        '\'{"shortcut": "B"}\'',
    )
    parser.add_argument(
        "--blocks",
        default="none,se,cbam,c3,cc,ba",
        help=("comma-separated registry names of the blocks to compare"),
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="runs per block, seeds 0, 1, ..."
    )
    parser.add_argument(
        "--epochs", type=int, default=30, help="training epochs"
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="images per training step"
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help=("use only the first N images of each split (unset: all)"),
    )
    parser.add_argument(
        "--runs",
        default=None,
        help="JSON-lines file of finished runs (appended; reused on re-run)",
    )
    args = parser.parse_args(argv)
    study = block_configs if args.study == "blocks" else defaults_configs
    configs = study(args)
    settings = {
        key: getattr(args, key)
        for key in (
            "study",
            "dataset",
            "model",
            "model_kwargs",
            "epochs",
            "batch_size",
            "limit",
        )
    }
    runs_path = pathlib.Path(args.runs) if args.runs else None
    done = []
    if runs_path and runs_path.exists():
        lines = runs_path.read_text().splitlines()
        done = [json.loads(line) for line in lines if line.strip()]
        # Only runs made with these settings count.
        done = [r for r in done if r.get("settings") == settings]
    for seed in range(args.seeds):
        for label, build, recipe_kwargs in configs:
            if any(r["config"] == label and r["seed"] == seed for r in done):
                continue
            started = time.time()
            record = train_once(label, build, recipe_kwargs, seed, args)
            record["wall_s"] = time.time() - started
            record["settings"] = settings
            done.append(record)
            print(
                f"seed {seed} {label}: last {record['final_val_accuracy']:.4f} "
                f"best {record['best_val_accuracy']:.4f} "
                f"{record['images_per_s']:.0f} img/s {record['wall_s']:.0f} s",
                flush=True,
            )
            if runs_path:
                runs_path.parent.mkdir(parents=True, exist_ok=True)
                with runs_path.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
    rows = [
        summarise(label, [r for r in done if r["config"] == label])
        for label, _, _ in configs
        if any(r["config"] == label for r in done)
    ]
    print_tables(rows)
    return rows


if __name__ == "__main__":
    main()
