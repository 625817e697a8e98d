"""Adds attention to a trained network and fine-tunes it on CIFAR-10.

    python examples/finetune_attention.py \\
        --data-dir ../shared/data/cifar-10-batches-py \\
        --attention se --pretrain-epochs 15 --epochs 5 --identity-start

1. The network: `--pretrained model.keras` (any functional Keras model
   trained on these images), or a plain `--model` (default CIFAR ResNet-20)
   trained here for `--pretrain-epochs` epochs and saved as
   `<output-dir>/pretrained.keras` (a re-run reuses it).
2. `keras_chattn.models.add_attention` inserts `--attention` blocks where
   the block's placement puts them, optionally wrapped to start as the
   identity (`--identity-start`).
3. Fine-tuning for `--epochs` epochs with the CIFAR recipe, freezing what
   `--freeze` says and scaling the backbone's learning rate by
   `--backbone-lr-scale` (the blocks keep `--lr`).

The output folder gets the training example's artefacts (config.json,
best_model.keras, history.csv, curves.png, summary.json, backup/), and
summary.json also records the validation accuracy before fine-tuning, of
the network alone and with the blocks inserted (step 0). A killed run
resumes like the training example's.

The ImageNet workflow is the same with `--pretrained` a keras.applications
model built with `weights="imagenet"` and saved (see docs/models.md).
"""

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import training  # noqa: E402
from keras_chattn.utils import files  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cifar10_resnet50 as trainer  # noqa: E402  (its artefact helpers)

FREEZE = ("none", "backbone", "batchnorm")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--attention",
        default="se",
        choices=["none", *sorted(keras_chattn.ATTENTION_LAYERS)],
        help="'none' fine-tunes the network as it is (the control)",
    )
    parser.add_argument(
        "--model",
        default="cifar_resnet20",
        help="builder name of the pretrained network",
    )
    parser.add_argument(
        "--pretrained", default=None, help="a trained .keras model"
    )
    parser.add_argument(
        "--pretrain-epochs",
        type=int,
        default=15,
        help=("epochs of the plain network when --pretrained is not given"),
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=5,
        help="fine-tuning epochs after the insertion",
    )
    parser.add_argument(
        "--identity-start",
        action="store_true",
        help="wrap every block so the network starts as it was",
    )
    parser.add_argument(
        "--freeze",
        default="none",
        choices=FREEZE,
        help=(
            "none: train all; backbone: only the blocks and the"
            " head; batchnorm: freeze BatchNorm statistics"
        ),
    )
    parser.add_argument(
        "--backbone-lr-scale",
        type=float,
        default=1.0,
        help="learning-rate factor of the pretrained layers (blocks: 1)",
    )
    parser.add_argument(
        "--lr", type=float, default=0.02, help="peak fine-tuning rate"
    )
    parser.add_argument(
        "--batch-size", type=int, default=128, help="images per training step"
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
        "--limit",
        type=int,
        default=None,
        help=("use only the first N images of each split (unset: all)"),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=("random seed of the weights, shuffling and augmentation"),
    )
    parser.add_argument(
        "--output-dir",
        default="runs/finetune",
        help="folder for the results, created if needed",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=0,
        choices=[0, 1, 2],
        help=(
            "Keras fit verbosity: 0 silent, 1 progress bar, 2 a line per epoch"
        ),
    )
    args = parser.parse_args(argv)
    for name in ("epochs", "pretrain_epochs", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.backbone_lr_scale < 0:
        parser.error("--backbone-lr-scale must be >= 0")
    # What the training example's helpers read.
    args.dataset, args.pipeline, args.export = "cifar10", "auto", False
    return args


def datasets(args, epochs, first_epoch=0):
    """Training data of `epochs` epochs from `first_epoch`; validation."""
    run = argparse.Namespace(**{**vars(args), "epochs": epochs})
    train, test, steps, _ = trainer.make_datasets(run, first_epoch)
    return train, test, steps


def pretrained(args, output_dir):
    """The network to add attention to: loaded, or trained here once."""
    if args.pretrained:
        return keras_chattn.saving.load_model(args.pretrained)
    path = output_dir / "pretrained.keras"
    if path.exists():
        return keras_chattn.saving.load_model(path)
    keras.utils.set_random_seed(args.seed)
    model = keras_chattn.models.build_model(
        args.model, input_shape=(32, 32, 3), classes=10
    )
    train, test, steps = datasets(args, args.pretrain_epochs)
    recipe = training.cifar_recipe(
        epochs=args.pretrain_epochs,
        steps_per_epoch=steps,
        batch_size=args.batch_size,
    )
    recipe.compile(model)
    model.fit(
        train,
        validation_data=test,
        epochs=args.pretrain_epochs,
        steps_per_epoch=steps,
        callbacks=recipe.callbacks,
        verbose=args.verbose,
        shuffle=False,  # the pipeline shuffles, keyed by epoch
    )
    with files.atomic_write(path) as temporary:
        model.save(temporary)
    return model


def accuracy(model, test):
    """Validation accuracy of `model` as it is (no training)."""
    model.compile(metrics=["accuracy"], loss="sparse_categorical_crossentropy")
    return float(model.evaluate(test, verbose=0, return_dict=True)["accuracy"])


def freeze(model, how):
    """Marks the pretrained layers (all but the blocks) not trainable."""
    if how == "none":
        return
    blocks = {layer.name for layer in model.layers if _is_block(layer)}
    for layer in model.layers:
        if layer.name in blocks:
            continue
        if how == "backbone" or isinstance(
            layer, keras.layers.BatchNormalization
        ):
            layer.trainable = False


def _is_block(layer):
    return layer.name.endswith("_attention")


def main(argv=None, callbacks=()):
    args = parse_arguments(argv)
    free = ("verbose", "data_dir", "output_dir")
    settings = {k: v for k, v in vars(args).items() if k not in free}
    try:
        with training.run_folder(args.output_dir, settings) as done:
            return finetune(
                args, pathlib.Path(args.output_dir), done, callbacks
            )
    except (*training.REFUSALS, ValueError) as error:
        raise SystemExit(" ".join(str(error).split())) from None


def finetune(args, output_dir, done, callbacks):
    files.write_json(output_dir / "config.json", vars(args))
    base = pretrained(args, output_dir)
    train, test, steps = datasets(args, args.epochs, done)
    before = accuracy(base, test)
    keras.utils.set_random_seed(args.seed)
    model = base
    if args.attention != "none":
        model = keras_chattn.models.add_attention(
            base, args.attention, start_as_identity=args.identity_start
        )
    freeze(model, args.freeze)
    inserted = accuracy(model, test)
    recipe = training.cifar_recipe(
        epochs=args.epochs,
        steps_per_epoch=steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        warmup_epochs=0,
        output_dir=output_dir,
        learning_rate_scales=[
            ("_attention/", 1.0),
            (".", args.backbone_lr_scale),
        ],
    )
    recipe.compile(model)
    trainer.train(model, train, test, recipe, callbacks, args, steps, done)
    history = training.read_history(output_dir / training.HISTORY)
    summary = trainer.summarise(model, history, "tf.data", train, test, steps)
    summary.update(
        {
            "pretrained_test_accuracy": before,
            "inserted_test_accuracy": inserted,
            "blocks": sum(_is_block(layer) for layer in model.layers),
            "identity_start": args.identity_start,
            "freeze": args.freeze,
            "backbone_lr_scale": args.backbone_lr_scale,
        }
    )
    files.write_json(output_dir / "summary.json", summary)
    print(json.dumps({k: summary[k] for k in (
        "pretrained_test_accuracy", "inserted_test_accuracy",
        "final_test_accuracy", "best_test_accuracy", "blocks",
    )}))  # fmt: skip
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
