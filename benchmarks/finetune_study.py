"""Inserting attention into a trained network, with and without identity
start, against training the network on: accuracy over seeds.

    python benchmarks/finetune_study.py \\
        --data-dir ../shared/data/cifar-10-batches-py --seeds 3 \\
        --pretrain-epochs 15 --epochs 5 --blocks se,cbam

For each seed, a plain CIFAR ResNet-20 is trained for `--pretrain-epochs`
epochs once (examples/finetune_attention.py), then fine-tuned from that
same state for `--epochs` more epochs: as it is (`none`), and with each
block of `--blocks` inserted by `add_attention` without and with
`start_as_identity`. Printed per configuration: the validation accuracy
at step 0 (after insertion, before any fine-tuning step) and after the
last epoch, mean +- sample standard deviation over seeds, then a Markdown
table. Every run lands in `--output-dir`; re-running reuses finished runs.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

ROOT = pathlib.Path(__file__).resolve().parents[1]


def example():
    path = ROOT / "examples" / "finetune_attention.py"
    spec = importlib.util.spec_from_file_location("finetune_attention", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def configurations(blocks):
    configs = [("none (trained on)", "none", False)]
    for block in blocks:
        configs.append((f"{block}, fresh", block, False))
        configs.append((f"{block}, identity start", block, True))
    return configs


def run(finetune, args, seed, label, block, identity):
    folder = (
        pathlib.Path(args.output_dir)
        / f"seed{seed}"
        / label.replace(" ", "_")
        .replace(",", "")
        .replace("(", "")
        .replace(")", "")
    )
    summary_path = folder / "summary.json"
    if summary_path.exists():
        return json.loads(summary_path.read_text())
    pretrained = (
        pathlib.Path(args.output_dir) / f"seed{seed}" / "pretrained.keras"
    )
    if not pretrained.exists():
        finetune.pretrained(
            finetune.parse_arguments(common(args, seed, pretrained.parent)),
            pretrained.parent,
        )
    argv = common(args, seed, folder) + [
        "--attention", block, "--pretrained", str(pretrained),
    ]  # fmt: skip
    if identity:
        argv.append("--identity-start")
    return finetune.main(argv)


def common(args, seed, folder):
    return [
        "--data-dir", str(args.data_dir), "--seed", str(seed),
        "--pretrain-epochs", str(args.pretrain_epochs),
        "--epochs", str(args.epochs), "--lr", str(args.lr),
        "--batch-size", str(args.batch_size), "--output-dir", str(folder),
    ] + (["--limit", str(args.limit)] if args.limit else [])  # fmt: skip


def mean_std(values):
    std = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.fmean(values):.4f} +- {std:.4f}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        required=True,
        help=(
            "a cifar-10-batches-py folder (or its parent); "
            "unset: $KERAS_CHATTN_DATA_DIR, then "
            "tensorflow-datasets"
        ),
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="runs per block, seeds 0, 1, ..."
    )
    parser.add_argument(
        "--pretrain-epochs",
        type=int,
        default=15,
        help=("epochs of the plain network before blocks are inserted"),
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=5,
        help="fine-tuning epochs after the insertion",
    )
    parser.add_argument(
        "--lr", type=float, default=0.02, help="peak fine-tuning learning rate"
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
        "--blocks",
        default="se,cbam",
        help=("comma-separated registry names of the blocks to compare"),
    )
    parser.add_argument(
        "--output-dir",
        default="runs/finetune_study",
        help="folder for the results, created if needed",
    )
    args = parser.parse_args(argv)
    finetune = example()
    configs = configurations(args.blocks.split(","))
    results = {label: [] for label, _, _ in configs}
    for seed in range(args.seeds):
        for label, block, identity in configs:
            summary = run(finetune, args, seed, label, block, identity)
            results[label].append(summary)
            print(
                f"seed {seed} {label}: step 0 "
                f"{summary['inserted_test_accuracy']:.4f}, after "
                f"{summary['final_test_accuracy']:.4f}",
                flush=True,
            )
    print(
        "\n| configuration | seeds | val accuracy at step 0 | after "
        f"{args.epochs} epochs | pretrained |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, summaries in results.items():
        print(
            f"| {label} | {len(summaries)} | "
            f"{mean_std([s['inserted_test_accuracy'] for s in summaries])} | "
            f"{mean_std([s['final_test_accuracy'] for s in summaries])} | "
            f"{mean_std([s['pretrained_test_accuracy'] for s in summaries])} |"
        )


if __name__ == "__main__":
    main()
