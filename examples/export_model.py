"""Export a trained model to SavedModel, ONNX and LiteRT, and measure each.

    python examples/export_model.py --model-path runs/cbam/best_model.keras \\
        --data-dir ../shared/data/cifar-10-batches-py \\
        --formats saved_model,onnx,litert,litert-int8 --output-dir runs/export

Each file is read back by its own runtime (TensorFlow, ONNX Runtime, the
LiteRT interpreter) and compared with the Keras model on the validation
images: the largest absolute output difference (on the first 64), top-1
agreement and accuracy (on all of them), and the latency of one image on
this machine. The int8 LiteRT file is calibrated on training images
(--calibration-images). Writes the files, `exports.md` (the table) and
`exports.json` into --output-dir. Needs the `export` extra:
`pip install "keras_chattn[export]"`.
"""

import argparse
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras_chattn  # noqa: E402
from keras_chattn import data  # noqa: E402
from keras_chattn.export import measure  # noqa: E402
from keras_chattn.export import missing_packages  # noqa: E402


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--model-path", required=True, help="the .keras model to export"
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
        "--formats",
        default="saved_model,onnx,litert,litert-int8",
        help=("comma-separated from saved_model, onnx, litert, litert-int8"),
    )
    parser.add_argument(
        "--images", type=int, default=None, help="validation images (all)"
    )
    parser.add_argument(
        "--calibration-images",
        type=int,
        default=200,
        help="training images that calibrate int8 quantisation",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help=(
            "largest output difference allowed, relative to the largest output"
        ),
    )
    parser.add_argument(
        "--output-dir",
        default="runs/export",
        help="folder for the results, created if needed",
    )
    args = parser.parse_args(argv)
    try:
        args.formats = measure.check_exports(args.formats)
    except ValueError as error:
        parser.error(str(error))
    if args.images is not None and args.images < 1:
        parser.error(f"--images must be at least 1. Received: {args.images}")
    return args


def normalized_images(args, split, limit):
    return data.load_cifar_arrays(
        args.dataset,
        split,
        data_dir=args.data_dir,
        limit=limit,
        normalized=True,
    )


def main(argv=None):
    args = parse_arguments(argv)
    missing = sorted(
        {
            package
            for name in args.formats
            for package in missing_packages(measure.EXPORTS[name][0])
        }
    )
    if missing:
        sys.exit(
            f'Missing {", ".join(missing)}: pip install "keras_chattn[export]"'
        )
    model = keras_chattn.saving.load_model(args.model_path)
    images, labels = normalized_images(args, "test", args.images)
    calibration, _ = normalized_images(args, "train", args.calibration_images)
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    rows = measure.compare_formats(
        model,
        output_dir,
        args.formats,
        images,
        labels,
        calibration=calibration,
        tolerance=args.tolerance,
    )
    table = measure.markdown_table(rows)
    (output_dir / "exports.md").write_text(table + "\n")
    (output_dir / "exports.json").write_text(json.dumps(rows, indent=2))
    print(f"{model.name} on {len(images)} validation images\n")
    print(table)
    return rows


if __name__ == "__main__":
    main()
