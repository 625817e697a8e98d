"""Searches attention blocks and their settings on CIFAR-10 with Keras Tuner.

    python examples/tune_cifar10.py \\
        --data-dir ../shared/data/cifar-10-batches-py \\
        --max-trials 4 --epochs 1 --limit 1024

Every trial builds the chosen model (default a CIFAR ResNet-20) with one
block from --blocks and that block's own search space (SE/CBAM/BA reduction,
CBAM kernel size, CC EMP and variant, C3 reduction) plus the learning rate,
trains it for --epochs on the tf.data pipeline and is ranked by validation
accuracy. Placement is searched too with --per-stage (a block, or none,
per stage), --positions (where in the residual block: all, or e.g.
standard,post,identity) and --every (e.g. 1,2: a block in every residual
block or every other one):

    python examples/tune_cifar10.py --per-stage --positions all \
        --every 1,2 --blocks none,se,cbam ...

The best configuration is printed as one line; `AttentionHyperModel(...)
.rebuild(line)` builds it again. At the end --directory (default
runs/tune-<time>) holds results.csv, trials.png, best_hyperparameters.json
and search/best_model.keras
(load it after `import keras_chattn`), and the table is printed.

Interrupted? Run the same command with --resume: completed trials are kept
and not repeated. Without --resume an existing search is refused.

Distributed search (Keras Tuner's chief/worker mode): run this same command
once as the chief and once per worker, each with the same --directory on a
shared file system and these variables:

    KERASTUNER_TUNER_ID=chief   KERASTUNER_ORACLE_IP=10.0.0.1 \\
    KERASTUNER_ORACLE_PORT=8000 python examples/tune_cifar10.py ...
    KERASTUNER_TUNER_ID=tuner0  KERASTUNER_ORACLE_IP=10.0.0.1 \\
    KERASTUNER_ORACLE_PORT=8000 python examples/tune_cifar10.py ...

The chief hands out trials and records results; workers train.
"""

import argparse
import datetime
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402

from keras_chattn import data  # noqa: E402
from keras_chattn import models  # noqa: E402
from keras_chattn import plotting  # noqa: E402
from keras_chattn import tuning  # noqa: E402


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--tuner",
        default="random",
        choices=list(tuning.TUNERS),
        help="Keras Tuner search algorithm",
    )
    parser.add_argument(
        "--max-trials", type=int, default=4, help="trials of the search"
    )
    parser.add_argument(
        "--epochs", type=int, default=1, help="training epochs of every trial"
    )
    parser.add_argument(
        "--blocks",
        default=None,
        help="comma-separated blocks to choose from, e.g. none,se,cbam "
        "(unset: all registered blocks and none)",
    )
    parser.add_argument(
        "--per-stage",
        action="store_true",
        help="search a block (or none) for each stage",
    )
    parser.add_argument(
        "--positions",
        default="standard",
        help="comma-separated positions in the residual block to search "
        "(standard, pre, post, identity, after_conv1, after_conv2), or all",
    )
    parser.add_argument(
        "--every",
        default="1",
        help="comma-separated values of attention_every to search, e.g. 1,2",
    )
    parser.add_argument(
        "--model",
        default="cifar_resnet20",
        choices=sorted(models.MODEL_BUILDERS),
        help=("builder name from keras_chattn.models.MODEL_BUILDERS"),
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
        "--batch-size", type=int, default=128, help="images per training step"
    )
    parser.add_argument(
        "--directory",
        default=None,
        help="search folder (unset: runs/tune-<time>)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the search in --directory",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=("random seed of the weights, shuffling and augmentation"),
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=[0, 1, 2],
        help=(
            "Keras fit verbosity: 0 silent, 1 progress bar, 2 a line per epoch"
        ),
    )
    args = parser.parse_args(argv)
    if args.directory is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.directory = f"runs/tune-{stamp}"
    return args


def _integers(flag, text):
    try:
        return [int(value) for value in text.split(",")]
    except ValueError:
        raise SystemExit(
            f"{flag} must be comma-separated integers, e.g. 1,2. "
            f"Received: {text!r}"
        ) from None


def main(argv=None, callbacks=()):
    args = parse_arguments(argv)
    keras.utils.set_random_seed(args.seed)
    train, test = (
        data.cifar_dataset(
            "cifar10",
            split,
            batch_size=args.batch_size,
            data_dir=args.data_dir,
            seed=args.seed,
            limit=args.limit,
        )
        for split in ("train", "test")
    )
    blocks = args.blocks.split(",") if args.blocks else None
    try:
        hypermodel = tuning.AttentionHyperModel(
            builder=args.model,
            blocks=blocks,
            epochs=args.epochs,
            steps_per_epoch=len(train),
            per_stage=args.per_stage,
            positions=(
                "all" if args.positions == "all" else args.positions.split(",")
            ),
            every=_integers("--every", args.every),
        )
        results = tuning.search(
            train,
            test,
            hypermodel=hypermodel,
            tuner=args.tuner,
            max_trials=args.max_trials,
            epochs=args.epochs,
            directory=args.directory,
            resume=args.resume,
            seed=args.seed,
            verbose=args.verbose,
            callbacks=callbacks,
            settings={
                "data_dir": args.data_dir,
                "limit": args.limit,
                "batch_size": args.batch_size,
            },
        )
    except (FileExistsError, ValueError) as error:
        raise SystemExit(str(error)) from None
    if not results.is_chief:
        return results  # a worker: the chief writes the results
    tuning.write_results(results, args.directory)
    figure = plotting.trial_scores(results.rows)
    figure.savefig(os.path.join(args.directory, "trials.png"), dpi=100)
    print()
    print(results.table())
    print(
        f"\n{len(results.rows)} trials ({args.tuner}, {args.epochs} epoch(s) "
        f"each) in {results.wall_time_s:.0f} s. Best: {results.best_line()}. "
        f"Results in {args.directory}"
    )
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
