"""Trains resnet1d with attention blocks on UCR time series, with seeds.

    python examples/timeseries_attention.py \\
        --datasets GunPoint,ArrowHead,ItalyPowerDemand \\
        --blocks none,se,eca,cbam --seeds 3 --epochs 150

The datasets are the UCR archive's own train/test splits, read offline from
the aeon wheel (`pip install ".[timeseries]"`) or from `--data-dir` (a
folder of <Name>/<Name>_TRAIN.ts files from timeseriesclassification.com).
Training follows the baseline's recipe (Fawaz et al. 2019): Adam at 1e-3,
the learning rate halved when the training loss stalls for `--patience`
epochs, batch size min(train cases / 10, 16), and the test accuracy of the
weights with the lowest training loss; only the number of epochs is
smaller than its 1500. Every finished run is appended to
`<output-dir>/runs.jsonl` (a re-run skips it, so a killed study resumes);
the table printed at the end gives mean +- std over seeds next to the
published ResNet accuracy (mean over 10 runs, 1500 epochs).
"""

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn.data import ucr  # noqa: E402
from keras_chattn.utils import files  # noqa: E402

# Fawaz et al. 2019, ResNet column (accuracy %, mean (std) over 10 runs).
PUBLISHED_RESNET = {
    "ArrowHead": (84.5, 1.2),
    "GunPoint": (99.1, 0.7),
    "ItalyPowerDemand": (96.3, 0.4),
    "OSULeaf": (97.9, 0.8),
}


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--datasets",
        default="GunPoint,ArrowHead,ItalyPowerDemand",
        help="comma-separated UCR/UEA names (see "
        "keras_chattn.data.available_datasets())",
    )
    parser.add_argument(
        "--blocks",
        default="none,se,eca,cbam",
        help="comma-separated registry blocks that take sequences",
    )
    parser.add_argument("--seeds", type=int, default=3, help="runs per cell")
    parser.add_argument(
        "--epochs", type=int, default=150, help="training epochs of every run"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=25,
        help="epochs without a lower training loss before the learning "
        "rate is halved",
    )
    parser.add_argument("--data-dir", default=None, help="a .ts folder")
    parser.add_argument(
        "--output-dir",
        default="runs/timeseries",
        help=(
            "folder of runs.jsonl (finished runs are kept and "
            "skipped on a rerun)"
        ),
    )
    return parser.parse_args(argv)


class LowestLossWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest training loss."""

    def __init__(self):
        super().__init__()
        self.best_loss = np.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss", np.inf)
        if loss < self.best_loss:
            self.best_loss = loss
            self.best_weights = self.model.get_weights()


def train_one(data, block, seed, epochs, patience):
    """Test accuracy, epochs, seconds of one run."""
    keras.utils.set_random_seed(seed)
    model = keras_chattn.models.resnet1d(
        input_shape=data.input_shape, classes=data.num_classes, attention=block
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    batch_size = int(max(1, min(len(data.train.x) // 10, 16)))
    keep = LowestLossWeights()
    plateau = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=patience, min_lr=1e-4
    )
    start = time.perf_counter()
    model.fit(
        data.train.x,
        data.train.y,
        batch_size=batch_size,
        epochs=epochs,
        callbacks=[keep, plateau],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    model.set_weights(keep.best_weights)
    _, accuracy = model.evaluate(
        data.test.x, data.test.y, batch_size=256, verbose=0
    )
    return float(accuracy), seconds


def table(records, datasets, blocks):
    lines = [
        "| dataset | published ResNet | " + " | ".join(blocks) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in blocks) + " |",
    ]
    for name in datasets:
        published = PUBLISHED_RESNET.get(name)
        cells = [
            f"{published[0]:.1f} +- {published[1]:.1f}" if published else "-"
        ]
        for block in blocks:
            values = [
                100 * r["accuracy"]
                for r in records
                if r["dataset"] == name and r["block"] == block
            ]
            cells.append(
                f"{np.mean(values):.1f} +- {np.std(values):.1f} ({len(values)})"
                if values
                else "-"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_arguments(argv)
    datasets = [d for d in args.datasets.split(",") if d]
    blocks = [b for b in args.blocks.split(",") if b]
    for block in blocks:
        keras_chattn.get_attention(block)  # an unknown name fails here
    output = pathlib.Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    runs_path = output / "runs.jsonl"
    records = []
    if runs_path.exists():
        records = [
            json.loads(line)
            for line in runs_path.read_text().split("\n")
            if line
        ]
    done = {(r["dataset"], r["block"], r["seed"], r["epochs"]) for r in records}
    for name in datasets:
        data = ucr.load_ucr(name, data_dir=args.data_dir)
        for seed in range(args.seeds):
            for block in blocks:
                if (name, block, seed, args.epochs) in done:
                    continue
                accuracy, seconds = train_one(
                    data, block, seed, args.epochs, args.patience
                )
                record = {
                    "dataset": name,
                    "block": block,
                    "seed": seed,
                    "epochs": args.epochs,
                    "accuracy": accuracy,
                    "seconds": round(seconds, 1),
                }
                print(json.dumps(record), flush=True)
                records.append(record)
                lines = "".join(json.dumps(r) + "\n" for r in records)
                files.write_text(runs_path, lines)
    records = [r for r in records if r["epochs"] == args.epochs]
    print(table(records, datasets, blocks))
    return records


if __name__ == "__main__":
    main()
