"""Does where the blocks go matter? Plain, one block everywhere, the tuner's
best placement: trained over seeds on real data.

    python benchmarks/placement_study.py --data cifar \\
        --data-dir ../shared/data/cifar-10-batches-py --epochs 8 --seeds 3 \\
        --search-trials 6 --search-epochs 3 --output-dir runs/placement

    python benchmarks/placement_study.py --data ucr:GunPoint --epochs 60 \\
        --seeds 3 --search-trials 6 --search-epochs 30 \\
        --output-dir runs/placement

The search (Keras Tuner's random search over `AttentionHyperModel` with
`per_stage=True`, every position the builder's blocks have and
`every` 1 or 2; blocks none, SE and CBAM with their settings) trains on
the first 80% of the training split and ranks trials on the other 20%, so
the images the arms are finally scored on are never used to choose. Then
each arm (no block; SE in every residual block; CBAM in every residual
block; the search's best line) trains on the whole training split for each
seed and is scored on the held-out split (CIFAR: the shared files'
`test_batch`; UCR: the archive's test split). Same recipe for every arm
(the package's CIFAR recipe: SGD + Nesterov, warm-up then cosine, weight
decay 5e-4; CIFAR images augmented); only the placement differs.

Printed: per arm, the accuracy's mean +- std over seeds and the paired
difference to the plain network (mean +- std over seeds). Every finished
run is appended to `<output-dir>/<data>.jsonl`; the same command again
skips what is there, and the search resumes.
"""

import argparse
import json
import os
import pathlib
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_chattn import data  # noqa: E402
from keras_chattn import tuning  # noqa: E402
from keras_chattn.data import ucr  # noqa: E402
from keras_chattn.models import attention_layout  # noqa: E402

BLOCKS = ("none", "se", "cbam")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data", default="cifar", help="cifar, or ucr:<Name> (e.g. GunPoint)"
    )
    parser.add_argument(
        "--data-dir", default=None, help="the CIFAR-10 files' folder"
    )
    parser.add_argument(
        "--epochs", type=int, default=8, help="epochs of each arm's run"
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds 0..N-1 of every arm"
    )
    parser.add_argument(
        "--search-trials", type=int, default=6, help="trials of the search"
    )
    parser.add_argument(
        "--search-epochs", type=int, default=3, help="epochs of each trial"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="images per step (unset: 128 for CIFAR, the baseline's for UCR)",
    )
    parser.add_argument(
        "--output-dir",
        default="runs/placement",
        help="where the runs (JSON lines) and the search go",
    )
    return parser.parse_args(argv)


class Study:
    """The data, the builder and the pipelines of one `--data`."""

    def __init__(self, args):
        self.args = args
        if args.data == "cifar":
            self.builder, self.builder_kwargs = "cifar_resnet20", {}
            self.train = data.load_cifar_arrays(
                split="train", data_dir=args.data_dir
            )
            self.test = data.load_cifar_arrays(
                split="test", data_dir=args.data_dir
            )
            self.input_shape, self.classes = (32, 32, 3), 10
            self.batch_size = args.batch_size or 128
        elif args.data.startswith("ucr:"):
            found = ucr.load_ucr(args.data[4:])
            self.builder, self.builder_kwargs = "resnet1d", {}
            self.train = (found.train.x, found.train.y)
            self.test = (found.test.x, found.test.y)
            self.input_shape, self.classes = (
                found.input_shape,
                found.num_classes,
            )
            self.batch_size = args.batch_size or int(
                max(1, min(len(found.train.x) // 10, 16))
            )
        else:
            raise SystemExit(f"--data must be cifar or ucr:<Name>: {args.data}")
        self.name = args.data.replace(":", "_")

    def pipeline(self, images, labels, seed, training):
        if self.builder == "cifar_resnet20":
            return data.CifarBatches(
                images,
                labels,
                batch_size=self.batch_size,
                augment=training,
                shuffle=training,
                seed=seed,
            )
        if not training:
            return tf.data.Dataset.from_tensor_slices((images, labels)).batch(
                256
            )
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
        return dataset.shuffle(len(labels), seed=seed).batch(self.batch_size)

    def hypermodel(self, epochs, steps):
        return tuning.AttentionHyperModel(
            builder=self.builder,
            input_shape=self.input_shape,
            classes=self.classes,
            blocks=list(BLOCKS),
            search_learning_rate=False,
            epochs=epochs,
            steps_per_epoch=steps,
            builder_kwargs=self.builder_kwargs,
            per_stage=True,
            positions="all",
            every=(1, 2),
        )

    def steps(self, count):
        return -(-count // self.batch_size)


def search(study, folder):
    """The random search on 80/20 of the training split; its best line."""
    images, labels = study.train
    cut = int(len(labels) * 0.8)
    train = study.pipeline(images[:cut], labels[:cut], 0, True)
    holdout = study.pipeline(images[cut:], labels[cut:], 0, False)
    hypermodel = study.hypermodel(study.args.search_epochs, study.steps(cut))
    print(f"search space: {hypermodel.configurations():,} networks")
    results = tuning.search(
        train,
        holdout,
        hypermodel,
        tuner="random",
        max_trials=study.args.search_trials,
        epochs=study.args.search_epochs,
        directory=folder,
        project_name=f"search_{study.name}",
        resume=(folder / f"search_{study.name}" / "oracle.json").exists(),
        seed=0,
        verbose=0,
        settings={"data": study.args.data, "batch_size": study.batch_size},
    )
    print(results.table())
    return results.best_line(), hypermodel.configurations()


def arms(best_line, stages):
    def everywhere(block):
        return "; ".join(f"stage{s}: {block}" for s in range(1, stages + 1))

    return {
        "none": everywhere("none"),
        "se everywhere": everywhere("se"),
        "cbam everywhere": everywhere("cbam"),
        "search's best": best_line,
    }


def train_arm(study, line, seed):
    keras.utils.set_random_seed(seed)
    images, labels = study.train
    train = study.pipeline(images, labels, seed, True)
    test = study.pipeline(*study.test, seed, False)
    hypermodel = study.hypermodel(study.args.epochs, study.steps(len(labels)))
    model = hypermodel.rebuild(line)
    model.fit(train, epochs=study.args.epochs, verbose=0)
    scores = model.evaluate(test, verbose=0, return_dict=True)
    return float(scores["accuracy"]), model.count_params()


def summary(records, names):
    plain = {r["seed"]: r["accuracy"] for r in records if r["arm"] == "none"}
    lines = [
        "| arm | placement | parameters | accuracy (mean +- std) | "
        "paired difference to none (mean +- std) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for arm in names:
        rows = sorted(
            (r for r in records if r["arm"] == arm), key=lambda r: r["seed"]
        )
        if not rows:
            continue
        scores = [r["accuracy"] for r in rows]
        differences = [
            r["accuracy"] - plain[r["seed"]] for r in rows if r["seed"] in plain
        ]
        lines.append(
            f"| {arm} | {rows[0]['line']} | {rows[0]['parameters']:,} | "
            f"{_mean_std(scores)} | "
            f"{_mean_std(differences, signed=True) if arm != 'none' else ''} |"
        )
    return "\n".join(lines)


def _mean_std(values, signed=False):
    mean = statistics.mean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    sign = "+" if signed else ""
    return f"{mean:{sign}.4f} +- {spread:.4f} ({len(values)} seeds)"


def main(argv=None):
    args = parse_arguments(argv)
    study = Study(args)
    folder = pathlib.Path(args.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    best_line, size = search(study, folder)
    print(f"best placement of the search ({size:,} networks): {best_line}")
    runs = folder / f"{study.name}.jsonl"
    records = []
    if runs.exists():
        records = [json.loads(line) for line in runs.read_text().splitlines()]
    _, stages = attention_layout(study.builder, **study.builder_kwargs)
    chosen = arms(best_line, stages)
    for seed in range(args.seeds):
        for arm, line in chosen.items():
            done = any(
                r["arm"] == arm
                and r["seed"] == seed
                and r["line"] == line
                and r["epochs"] == args.epochs
                for r in records
            )
            if done:
                continue
            accuracy, parameters = train_arm(study, line, seed)
            record = {
                "arm": arm,
                "line": line,
                "seed": seed,
                "epochs": args.epochs,
                "accuracy": accuracy,
                "parameters": parameters,
            }
            print(json.dumps(record), flush=True)
            records.append(record)
            with open(runs, "a") as handle:
                handle.write(json.dumps(record) + "\n")
    records = [r for r in records if r["epochs"] == args.epochs]
    records = [r for r in records if r["line"] == chosen[r["arm"]]]
    print(summary(records, list(chosen)))
    return records


if __name__ == "__main__":
    main()
