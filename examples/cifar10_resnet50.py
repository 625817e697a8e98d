"""Trains an attention ResNet (ResNet-50 by default) on CIFAR-10 or CIFAR-100.

    python examples/cifar10_resnet50.py --attention cbam --epochs 200
    python examples/cifar10_resnet50.py --model cifar_resnet20 \\
        --data-dir path/to/cifar-10-batches-py --epochs 1 --limit 1024

Everything lands in --output-dir (default runs/<model>-<attention>-<time>):
best_model.keras, history.csv, curves.png, summary.json, config.json,
backup/ and logs/ (TensorBoard); with --export, saved_model/ as well.
Running the same command again resumes an interrupted run where it stopped
and ends as an uninterrupted run would; other settings, another
architecture or a second live run on the folder are refused, naming why.
--extend trains a run to more epochs than it was started with.

The input pipeline is tf.data when TensorFlow is installed and NumPy
batches otherwise (`--pipeline arrays`, which also runs on JAX or PyTorch
alone); both serve the same batches. A saved model loads in another
program after `import keras_chattn`.
"""

import argparse
import datetime
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import data  # noqa: E402
from keras_chattn import training  # noqa: E402
from keras_chattn.utils import files  # noqa: E402

POLICIES = {"none": "float32", "float16": "mixed_float16"}
POLICIES["bfloat16"] = "mixed_bfloat16"
# Flags a resumed run may change: where files are, what is printed, what
# is written at the end. Every other flag is part of what the run is.
FREE_FLAGS = ("data_dir", "output_dir", "verbose", "export", "extend")
# Flags that reach the builder where it takes them (the CIFAR ResNets).
BUILDER_FLAGS = ("stem", "shortcut", "batchnorm_momentum", "kernel_initializer")


def positive(text):
    if int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return int(text)


BLOCKS = ["none", *sorted(keras_chattn.ATTENTION_LAYERS)]
MODELS = sorted(keras_chattn.models.MODEL_BUILDERS)
# --flag, default, choices or type ("on" for a switch), help.
FLAGS = [
    ("attention", "cbam", BLOCKS, "the block in every residual block"),
    ("model", "resnet50", MODELS, "the builder"),
    ("stem", "cifar", ["cifar", "imagenet"], "ResNet-18..152's first layers"),
    ("shortcut", "A", ["A", "B"], "CIFAR ResNets: A (padded identity) or B"),
    ("batchnorm-momentum", 0.9, float, "CIFAR ResNets (PyTorch's 0.1)"),
    ("kernel-initializer", "he_normal", str, "CIFAR ResNets' convolutions"),
    ("dataset", "cifar10", ["cifar10", "cifar100"], "which CIFAR"),
    ("epochs", 200, positive, "epochs of the run"),
    ("batch-size", 128, positive, "images per step"),
    ("lr", None, float, "peak learning rate (unset: 0.1 x batch size / 128)"),
    ("weight-decay", 5e-4, float, "decoupled weight decay of the kernels"),
    ("warmup-epochs", None, int, "cosine's warm-up (min(5, epochs // 10))"),
    ("schedule", "cosine", ["cosine", "step"], "step: /10 at 50%% and 75%%"),
    ("label-smoothing", 0.0, float, "of the cross-entropy"),
    ("data-dir", None, str, "the CIFAR files (unset: found or downloaded)"),
    ("limit", None, positive, "use the first N images of each split"),
    ("mixed-precision", "none", sorted(POLICIES), "dtype policy"),
    ("jit-compile", False, "on", "XLA (slower on CPUs)"),
    ("distribute", "none", list(training.STRATEGIES), "mirrored, multiworker"),
    ("pipeline", "auto", ["auto", "tfdata", "arrays"], "auto: tf.data if any"),
    ("output-dir", None, str, "the run's folder; the same one resumes it"),
    ("seed", 0, int, "of the weights, the shuffling and the augmentation"),
    ("extend", False, "on", "train the run to a larger --epochs"),
    ("export", False, "on", "also write the best model as a SavedModel"),
    ("verbose", 1, [0, 1, 2], "fit's verbosity"),
]


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    for name, default, kind, help in FLAGS:
        if kind == "on":
            options = {"action": "store_true"}
        elif name == "mixed-precision":  # a bare --mixed-precision: float16
            options = {"choices": kind, "nargs": "?", "const": "float16"}
        elif isinstance(kind, list):
            options = {"choices": kind, "type": type(kind[0])}
        else:
            options = {"type": kind}
        parser.add_argument(f"--{name}", default=default, help=help, **options)
    args = parser.parse_args(argv)
    if args.output_dir is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.output_dir = f"runs/{args.model}-{args.attention}-{stamp}"
    return args


def make_datasets(args, first_epoch):
    """Training batches of epochs `first_epoch` ... `--epochs` - 1 (each
    epoch's a function of the seed and its index, so a resumed run sees
    what an uninterrupted one saw), validation batches, steps per epoch."""
    epochs = max(args.epochs, first_epoch + 1)
    common = {"data_dir": args.data_dir, "limit": args.limit}
    batching = {"batch_size": args.batch_size, "seed": args.seed}
    if args.pipeline == "tfdata" or (
        args.pipeline == "auto" and data.tensorflow_available()
    ):
        train = data.cifar_dataset(
            args.dataset, "train", **common, **batching, epochs=epochs,
            first_epoch=first_epoch,
        )  # fmt: skip
        test = data.cifar_dataset(args.dataset, "test", **common, **batching)
        return train, test, len(train) // (epochs - first_epoch), "tf.data"
    train, test = (
        data.CifarBatches(
            *data.load_cifar_arrays(args.dataset, split, **common),
            **batching,
            augment=split == "train",
            shuffle=split == "train",
            first_epoch=first_epoch if split == "train" else 0,
        )
        for split in ("train", "test")
    )
    return train, test, len(train), "arrays"


def build(args, classes, steps_per_epoch, output_dir):
    """The model and its compiled recipe (whose callbacks write the run)."""
    accepted = keras_chattn.models.builder_arguments(args.model)
    model = keras_chattn.models.build_model(
        args.model,
        input_shape=(32, 32, 3),
        classes=classes,
        attention=None if args.attention == "none" else args.attention,
        **{k: getattr(args, k) for k in BUILDER_FLAGS if k in accepted},
    )
    recipe = training.cifar_recipe(
        epochs=args.epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs,
        schedule=args.schedule,
        label_smoothing=args.label_smoothing,
        classes=classes,
        output_dir=output_dir,
        settings={k: v for k, v in vars(args).items() if k not in FREE_FLAGS},
        extend=args.extend,
    )
    recipe.compile(model, jit_compile=True if args.jit_compile else "auto")
    return model, recipe


def main(argv=None, callbacks=()):
    """Trains, or resumes, the run; `callbacks` join the recipe's (tests).
    A refusal (another run's folder, a full disk, a bad value) is one line.
    """
    args = parse_arguments(argv)
    settings = {k: v for k, v in vars(args).items() if k not in FREE_FLAGS}
    try:
        # First: a multi-worker strategy configures the engine at start-up.
        scope = training.distribution_scope(args.distribute)
        folder = training.run_folder(args.output_dir, settings, args.extend)
        with folder as done:
            output_dir = pathlib.Path(args.output_dir)
            return run(args, output_dir, done, callbacks, scope)
    except (*training.REFUSALS, data.DataNotFoundError, ValueError) as error:
        raise SystemExit(" ".join(str(error).split())) from None


def train(model, train_data, test, recipe, callbacks, args, steps, done):
    """`model.fit` of the epochs not done; Ctrl-C says how to resume."""
    if done >= args.epochs:
        return print(f"All {args.epochs} epochs are done: nothing to train.")
    try:
        with training.peers_watched():
            model.fit(
                train_data,
                validation_data=test,
                epochs=args.epochs,
                steps_per_epoch=steps,
                callbacks=[*recipe.callbacks, *callbacks],
                verbose=args.verbose,
                shuffle=False,  # the pipelines shuffle, keyed by epoch
            )
    except KeyboardInterrupt:
        done = training.epochs_done(pathlib.Path(args.output_dir, "backup"))
        print(f"\nInterrupted after {done} of {args.epochs} epochs. Run the "
              "same command again to resume from there.")  # fmt: skip
        raise SystemExit(130) from None
    except training.WorkerLost as error:
        print(error, file=sys.stderr, flush=True)
        sys.stdout.flush()
        # Leave now: on JAX, a normal exit waits at jax.distributed's
        # shutdown barrier for the lost worker until its heartbeat times
        # out, then aborts the process.
        os._exit(1)


def run(args, output_dir, done, callbacks, scope):
    started = time.time()
    worker = training.worker()
    if args.export and worker.count > 1:
        raise ValueError(
            "--export is not available in a multi-worker run (loading the "
            "best model takes every worker): export best_model.keras "
            "afterwards with examples/export_model.py. Received: --export "
            f"with {worker.count} workers"
        )
    if worker.chief:
        files.write_json(output_dir / "config.json", vars(args))
    keras.utils.set_random_seed(args.seed)
    keras.config.set_dtype_policy(POLICIES[args.mixed_precision])
    train_data, test, steps, pipeline = make_datasets(args, done)
    with scope:
        classes = data.LAYOUTS[args.dataset].classes
        model, recipe = build(args, classes, steps, output_dir)
    print(
        f"{model.name}: {model.count_params():,} parameters, "
        f"{keras.backend.backend()}, {pipeline}, "
        f"{keras.config.dtype_policy().name}, output {output_dir}"
        + (f", resuming after epoch {done}" if done else "")
        + (
            f", worker {worker.index} of {worker.count}"
            if worker.count > 1
            else ""
        )
    )
    part = training.worker_part  # a JAX worker's rows of every batch
    fit_data = (part(train_data), part(test))
    train(model, *fit_data, recipe, callbacks, args, steps, done)
    if not worker.chief:
        return print(f"Worker {worker.index} of {worker.count}: done.")
    history = training.read_history(output_dir / training.HISTORY)
    summary = summarise(model, history, pipeline, train_data, test, steps)
    summary["wall_time_s_this_invocation"] = time.time() - started
    best_path = output_dir / training.BEST_MODEL
    if args.export and best_path.exists() and data.tensorflow_available():
        model = keras.saving.load_model(best_path)
        model.export(str(output_dir / "saved_model"), verbose=False)
    elif args.export:
        print("--export needs TensorFlow and a best model: no SavedModel")
    try:  # matplotlib is an extra
        figure = keras_chattn.plotting.training_curves(history)
        figure.savefig(output_dir / "curves.png", dpi=100)
    except ImportError as error:
        print(f"{error}: no curves.png")
    files.write_json(output_dir / "summary.json", summary)
    print(
        f"\n{model.name} on {args.dataset}, {summary['epochs']} epochs: "
        f"final test accuracy {summary['final_test_accuracy'] or 0:.4f}, "
        f"best {summary['best_test_accuracy'] or 0:.4f} (epoch "
        f"{summary['best_epoch']}), {summary['train_images_per_s'] or 0:.0f} "
        f"images/s. Results in {output_dir}"
    )
    return summary


def count_images(dataset, steps=None):
    if isinstance(dataset, data.CifarBatches):
        return len(dataset.labels)
    return sum(int(y.shape[0]) for _, y in dataset.take(steps or -1))


def summarise(model, history, pipeline, train, test, steps):
    """What the run reached, from its history (every epoch, resumed too)."""
    seconds = sum(row.get("train_time_s", 0.0) for row in history)
    best = max(history, key=lambda row: row.get("val_accuracy", -1), default={})
    last = history[-1] if history else {}
    images = count_images(train, steps)
    return {
        "model": model.name,
        "backend": keras.backend.backend(),
        "pipeline": pipeline,
        "epochs": len(history),
        "train_images": images,
        "test_images": count_images(test),
        "parameters": model.count_params(),
        "final_test_accuracy": last.get("val_accuracy"),  # the final weights'
        "final_test_loss": last.get("val_loss"),
        "best_test_accuracy": best.get("val_accuracy"),
        "best_epoch": best.get("epoch"),
        "train_time_s": seconds,
        "train_images_per_s": images * len(history) / seconds if seconds else 0,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
