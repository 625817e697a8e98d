"""Trains an attention ResNet (ResNet-50 by default) on CIFAR-10 or CIFAR-100.

    python examples/cifar10_resnet50.py --attention cbam --epochs 200
    python examples/cifar10_resnet50.py \\
        --data-dir ../shared/data/cifar-10-batches-py --epochs 1 --limit 1024

Everything lands in --output-dir (default runs/<model>-<attention>-<time>):
best_model.keras (best validation accuracy), history.csv, curves.png,
summary.json, config.json, backup/ (resume state), logs/ (TensorBoard) and,
with --export, saved_model/ (serves without keras_chattn installed).
Running the same command with the same --output-dir resumes an interrupted
run where it stopped, whatever moment it was killed at, and ends with what
an uninterrupted run gives (every epoch's row once, the true best model,
the same weights); a finished run is not trained again. A re-run with other
settings is refused with the list of differences, except more epochs asked
for explicitly with --extend (recorded in config.json).

Input pipeline: tf.data (`keras_chattn.data.cifar_dataset`) when TensorFlow
is installed; otherwise, or with --pipeline arrays, NumPy arrays and Keras
preprocessing layers (`keras_chattn.data.CifarBatches`), which run on JAX or
PyTorch with no TensorFlow at all.

Loading the saved model in another program needs `import keras_chattn`
first (Keras imports only its own packages when it loads a .keras file).
"""

import argparse
import datetime
import json
import math
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import data  # noqa: E402
from keras_chattn import training  # noqa: E402
from keras_chattn.training import checkpoints  # noqa: E402
from keras_chattn.utils import files  # noqa: E402

POLICIES = {
    "none": "float32",
    "float16": "mixed_float16",
    "bfloat16": "mixed_bfloat16",
}
# Settings a re-run may change without changing what the run is: where the
# files are, what is printed, whether a SavedModel is written at the end.
FREE_KEYS = ("data_dir", "output_dir", "verbose", "export", "extend")
# Architecture flags and the builder argument each sets, where the builder
# has it (the CIFAR ResNets); other builders ignore them.
BUILDER_FLAGS = ("shortcut", "batchnorm_momentum", "kernel_initializer")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--attention",
        default="cbam",
        choices=["none", *sorted(keras_chattn.ATTENTION_LAYERS)],
        help=("registry name of the block in every residual block, or none"),
    )
    parser.add_argument(
        "--model",
        default="resnet50",
        choices=sorted(keras_chattn.models.MODEL_BUILDERS),
        help=("builder name from keras_chattn.models.MODEL_BUILDERS"),
    )
    parser.add_argument(
        "--stem",
        default="cifar",
        choices=["cifar", "imagenet"],
        help="ResNet-18..152 stem: 'cifar' (3x3 conv, no pool) for 32x32 "
        "images; ignored by builders without one",
    )
    parser.add_argument(
        "--shortcut",
        default="A",
        choices=["A", "B"],
        help="CIFAR ResNets: 'A' (zero-padded identity, the paper) or 'B' "
        "(1x1 conv + BN projection) where the shape changes",
    )
    parser.add_argument(
        "--batchnorm-momentum",
        type=float,
        default=0.9,
        help="CIFAR ResNets: Keras momentum of every BatchNorm (0.9 = "
        "PyTorch's 0.1, the reference code; Keras' own is 0.99)",
    )
    parser.add_argument(
        "--kernel-initializer",
        default="he_normal",
        help="CIFAR ResNets: initializer of the convolutions (the paper: "
        "he_normal; Keras' own: glorot_uniform)",
    )
    parser.add_argument(
        "--dataset",
        default="cifar10",
        choices=["cifar10", "cifar100"],
        help="which CIFAR",
    )
    parser.add_argument(
        "--epochs", type=int, default=200, help="training epochs"
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="images per training step"
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help="peak learning rate (unset: 0.1 x batch size / 128)",
    )
    parser.add_argument(
        "--weight-decay",
        type=float,
        default=5e-4,
        help="decoupled weight decay of the kernels",
    )
    parser.add_argument(
        "--warmup-epochs",
        type=int,
        default=None,
        help="epochs of linear learning-rate warm-up (unset: "
        "min(5, epochs // 10))",
    )
    parser.add_argument(
        "--schedule",
        default="cosine",
        choices=["cosine", "step"],
        help=(
            "cosine: warm-up then cosine to zero; step: divide "
            "by 10 at 50%% and 75%%"
        ),
    )
    parser.add_argument(
        "--label-smoothing",
        type=float,
        default=0.0,
        help="label smoothing of the cross-entropy",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the CIFAR files (else $KERAS_CHATTN_DATA_DIR, the "
        "tfds and Keras caches, then a download)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="use only the first N images of each split",
    )
    parser.add_argument(
        "--mixed-precision",
        nargs="?",
        const="float16",
        default="none",
        choices=sorted(POLICIES),
        help="mixed precision; bare flag means float16",
    )
    parser.add_argument(
        "--jit-compile",
        action="store_true",
        help="compile the train step with XLA (slower on CPUs)",
    )
    parser.add_argument(
        "--distribute",
        default="none",
        choices=list(training.STRATEGIES),
        help=("mirrored: all local GPUs; multiworker: TF_CONFIG's machines"),
    )
    parser.add_argument(
        "--pipeline",
        default="auto",
        choices=["auto", "tfdata", "arrays"],
        help="auto: tf.data when TensorFlow is installed, else arrays",
    )
    parser.add_argument(
        "--output-dir",
        default=None,
        help=(
            "run folder; the same folder resumes a run (unset: "
            "runs/<model>-<attention>-<time>)"
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=("random seed of the weights, shuffling and augmentation"),
    )
    parser.add_argument(
        "--extend",
        action="store_true",
        help="train a run in --output-dir to a larger --epochs than it was "
        "started with (the schedule is stretched to the new length from the "
        "epoch it resumes at)",
    )
    parser.add_argument(
        "--export",
        action="store_true",
        help="also write the best model as a TF SavedModel (model.export)",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=[0, 1, 2],
        help="fit verbosity",
    )
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "limit"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(
                f"--{name.replace('_', '-')} must be >= 1, got {value}"
            )
    warmup = args.warmup_epochs
    if warmup is not None and not 0 <= warmup < args.epochs:
        parser.error(
            f"--warmup-epochs must be in [0, --epochs={args.epochs}), "
            f"got {warmup}"
        )
    if not 0 <= args.batchnorm_momentum < 1:
        parser.error(
            "--batchnorm-momentum must be in [0, 1), got "
            f"{args.batchnorm_momentum}"
        )
    if args.output_dir is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.output_dir = f"runs/{args.model}-{args.attention}-{stamp}"
    return args


def read_config(output_dir):
    """The settings a run in `output_dir` was started with, or None."""
    path = output_dir / "config.json"
    if not path.exists():
        return None
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(
            f"{path} is unreadable ({error}): it is not a config this script "
            "wrote. Pass another --output-dir, or remove the folder to start "
            "the run again."
        ) from None
    if not isinstance(config, dict):
        raise SystemExit(
            f"{path} holds {type(config).__name__}, not this script's "
            "settings. Pass another --output-dir."
        )
    return config


def check_resumable(output_dir, args, epochs_done):
    """Refuses a re-run whose settings change what the run is.

    More epochs are allowed with --extend only, and recorded.
    """
    current = {k: v for k, v in vars(args).items() if k not in FREE_KEYS}
    previous = read_config(output_dir)
    extensions = []
    if previous is not None:
        extensions = list(previous.get("extensions", []))
        changed = {
            key: (previous.get(key), value)
            for key, value in current.items()
            if key != "epochs" and previous.get(key) != value
        }
        if changed:
            raise SystemExit(
                f"{output_dir} holds a run with other settings: "
                + ", ".join(
                    f"{key}: {old!r} there, {new!r} now"
                    for key, (old, new) in changed.items()
                )
                + ". Pass another --output-dir, or the same settings to "
                "resume."
            )
        before = previous.get("epochs")
        if args.epochs != before:
            if not isinstance(before, int) or args.epochs < before:
                raise SystemExit(
                    f"{output_dir} holds a run of {before!r} epochs; it "
                    f"cannot be shortened to --epochs {args.epochs}."
                )
            if not args.extend:
                raise SystemExit(
                    f"{output_dir} holds a run of {before} epochs, not "
                    f"{args.epochs}. Pass --extend to train it to "
                    f"{args.epochs} epochs (the learning-rate schedule is "
                    f"then stretched to {args.epochs} epochs from epoch "
                    f"{epochs_done + 1} on), or --epochs {before} to resume."
                )
            extensions.append(
                {
                    "from_epochs": before,
                    "to_epochs": args.epochs,
                    "at_epoch": epochs_done,
                }
            )
    files.write_json(
        output_dir / "config.json",
        {**vars(args), "extensions": extensions},
    )


def make_datasets(args, first_epoch):
    """The training data of epochs `first_epoch` ... `--epochs` - 1 (each
    epoch a function of the seed and its index) and the validation data."""
    use_tf_data = args.pipeline == "tfdata" or (
        args.pipeline == "auto" and data.tensorflow_available()
    )
    if use_tf_data:
        common = {
            "batch_size": args.batch_size,
            "data_dir": args.data_dir,
            "seed": args.seed,
            "limit": args.limit,
        }
        train = data.cifar_dataset(
            args.dataset,
            "train",
            epochs=max(args.epochs, first_epoch + 1),
            first_epoch=first_epoch,
            **common,
        )
        test = data.cifar_dataset(args.dataset, "test", **common)
        return (train, test), "tf.data"
    splits = []
    for split in ("train", "test"):
        images, labels = data.load_cifar_arrays(
            args.dataset, split, data_dir=args.data_dir, limit=args.limit
        )
        splits.append(
            data.CifarBatches(
                images,
                labels,
                batch_size=args.batch_size,
                augment=split == "train",
                shuffle=split == "train",
                seed=args.seed,
                name=args.dataset,
                first_epoch=first_epoch if split == "train" else 0,
            )
        )
    return splits, "arrays"


def steps_per_epoch(train, epochs, first_epoch):
    if isinstance(train, data.CifarBatches):
        return len(train)
    return len(train) // (max(epochs, first_epoch + 1) - first_epoch)


def count_images(dataset, steps=None):
    """Images in one epoch of `dataset` (the first `steps` batches)."""
    if isinstance(dataset, data.CifarBatches):
        return len(dataset.labels)
    if steps is not None:
        dataset = dataset.take(steps)
    return sum(int(labels.shape[0]) for _, labels in dataset)


def build(args, classes, steps_per_epoch, output_dir):
    keyword = {"input_shape": (32, 32, 3), "classes": classes}
    keyword["attention"] = None if args.attention == "none" else args.attention
    accepted = keras_chattn.models.builder_arguments(args.model)
    for name in ("stem", *BUILDER_FLAGS):
        if name in accepted:
            keyword[name] = getattr(args, name)
    model = keras_chattn.models.build_model(args.model, **keyword)
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
    )
    recipe.compile(model, jit_compile=True if args.jit_compile else "auto")
    return model, recipe


def plot_curves(history, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no curves.png")
        return False
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [row.get(prefix + metric, math.nan) for row in history]
            label = ("validation " if prefix else "train ") + metric
            axis.plot(epochs, values, style, marker="o", label=label)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlim(0.5, max(epochs) + 0.5)
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def export(best_path, output_dir):
    if not data.tensorflow_available():
        print("--export needs TensorFlow installed: no SavedModel written")
        return None
    best = keras.saving.load_model(best_path)
    target = output_dir / "saved_model"
    best.export(str(target), verbose=False)
    return target


def prepare_output_dir(args):
    """The output folder, made; its backup's finished epochs (0 if none)."""
    output_dir = pathlib.Path(args.output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise SystemExit(
            f"--output-dir {output_dir} is a file, not a folder: pass a "
            "folder (it is created when missing)."
        )
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        files.remove_leftovers(output_dir)  # of writes a kill interrupted
        state = checkpoints.clean_backup(output_dir / training.BACKUP)
        done = state["epochs_done"] if state else 0
        history = training.read_history(output_dir / training.HISTORY)
    except (checkpoints.BackupError, training.HistoryError) as error:
        raise SystemExit(str(error)) from None
    except OSError as error:
        raise SystemExit(
            f"cannot use --output-dir {output_dir}: {error}"
        ) from None
    if len(history) < done:
        raise SystemExit(
            f"{output_dir / training.HISTORY} has {len(history)} epochs but "
            f"the backup holds {done}: it was edited or replaced. Pass "
            "another --output-dir."
        )
    return output_dir, done


def train(model, train_data, test, args, recipe, callbacks, steps, done):
    """`model.fit` over the epochs not yet done; Ctrl-C ends with a line
    that says how to resume."""
    if done >= args.epochs:
        print(f"All {args.epochs} epochs are done: nothing to train.")
        return
    try:
        model.fit(
            train_data,
            validation_data=test,
            epochs=args.epochs,
            steps_per_epoch=steps,
            callbacks=[*recipe.callbacks, *callbacks],
            verbose=args.verbose,
            shuffle=False,  # the pipelines shuffle themselves
        )
    except KeyboardInterrupt:
        finished = checkpoints.epochs_done(
            pathlib.Path(args.output_dir) / training.BACKUP
        )
        print(
            f"\nInterrupted after {finished} of {args.epochs} epochs. Run the "
            "same command again to resume from there."
        )
        raise SystemExit(130) from None


def main(argv=None, callbacks=()):
    """Runs the training; `callbacks` are added to the recipe's (for tests)."""
    args = parse_arguments(argv)
    started = time.time()
    output_dir, done = prepare_output_dir(args)
    check_resumable(output_dir, args, done)
    keras.utils.set_random_seed(args.seed)
    keras.config.set_dtype_policy(POLICIES[args.mixed_precision])
    classes = data.LAYOUTS[args.dataset].classes
    (train_data, test), pipeline = make_datasets(args, done)
    steps = steps_per_epoch(train_data, args.epochs, done)
    with training.distribution_scope(args.distribute):
        model, recipe = build(args, classes, steps, output_dir)
    print(
        f"{model.name}: {model.count_params():,} parameters, backend "
        f"{keras.backend.backend()}, {pipeline} pipeline, policy "
        f"{keras.config.dtype_policy().name}, output {output_dir}"
        + (f", resuming after epoch {done}" if done else "")
    )
    train(model, train_data, test, args, recipe, callbacks, steps, done)
    summary = summarise(
        model, args, output_dir, pipeline, train_data, test, steps
    )
    summary["wall_time_s_this_invocation"] = time.time() - started
    files.write_json(output_dir / "summary.json", summary)
    print(final_line(summary, args, output_dir))
    return summary


def summarise(model, args, output_dir, pipeline, train_data, test, steps):
    history = training.read_history(output_dir / training.HISTORY)
    best_path = output_dir / training.BEST_MODEL
    train_images = count_images(train_data, steps)
    train_seconds = sum(row.get("train_time_s", 0.0) for row in history)
    best = max(
        history, key=lambda row: row.get("val_accuracy", -1.0), default=None
    )
    summary = {
        "model": model.name,
        "attention": args.attention,
        "dataset": args.dataset,
        "backend": keras.backend.backend(),
        "pipeline": pipeline,
        "dtype_policy": keras.config.dtype_policy().name,
        "epochs": len(history),
        "train_images": train_images,
        "test_images": count_images(test),
        "parameters": model.count_params(),
        "trainable_parameters": sum(
            math.prod(w.shape) for w in model.trainable_weights
        ),
        # The last epoch's validation, which used the final weights.
        "final_test_accuracy": history[-1].get("val_accuracy")
        if history
        else None,
        "final_test_loss": history[-1].get("val_loss") if history else None,
        "best_test_accuracy": best.get("val_accuracy") if best else None,
        "best_epoch": best["epoch"] if best else None,
        "best_model": str(best_path) if best_path.exists() else None,
        "train_time_s": train_seconds,
        "train_images_per_s": train_images * len(history) / train_seconds
        if train_seconds
        else None,
        "wall_time_s_this_invocation": None,
    }
    plot_curves(history, output_dir / "curves.png")
    if args.export and best_path.exists():
        target = export(best_path, output_dir)
        summary["saved_model"] = str(target) if target else None
    return summary


def final_line(summary, args, output_dir):
    def number(value, digits=4):
        return "n/a" if value is None else f"{value:.{digits}f}"

    return (
        f"\n{summary['model']} on {args.dataset} ({summary['train_images']} "
        f"training images, {summary['epochs']} epochs): final test accuracy "
        f"{number(summary['final_test_accuracy'])}, best "
        f"{number(summary['best_test_accuracy'])} (epoch "
        f"{summary['best_epoch'] or 'n/a'}), "
        f"{summary['train_images_per_s'] or 0:.0f} images/s, "
        f"{summary['wall_time_s_this_invocation']:.0f} s. Results in "
        f"{output_dir}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
