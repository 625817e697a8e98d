"""Every block exported to SavedModel, ONNX and LiteRT (float and int8).

    python benchmarks/deployment.py \\
        --data-dir ../shared/data/cifar-10-batches-py --epochs 6 \\
        --output-dir runs/deployment

For each block (and none), trains a CIFAR ResNet-20 for --epochs epochs on
the CIFAR-10 training images (the package's recipe, seed 0), then exports
its logits (the same weights without the softmax, a stricter check than
probabilities) to each format with `keras_chattn.export` and measures each
file on the validation images: max abs difference against Keras (first 64
images), top-1 agreement and accuracy (all of them), latency of one image
with the format's runtime on this CPU, and size. The int8 file is
calibrated on 200 training images. Trained models are kept in
--output-dir/<block>/model.keras and reused by a re-run. Prints one Markdown
table (the one in docs/deployment.md) and writes deployment.json.
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import data  # noqa: E402
from keras_chattn import training  # noqa: E402
from keras_chattn.export import measure  # noqa: E402
from keras_chattn.models import cifar_resnet  # noqa: E402


def trained(block, args, folder):
    path = folder / "model.keras"
    if path.exists():
        return keras_chattn.saving.load_model(path)
    keras.utils.set_random_seed(0)
    train, test = (
        data.cifar_dataset(
            "cifar10", split, batch_size=128, data_dir=args.data_dir, seed=0
        )
        for split in ("train", "test")
    )
    model = cifar_resnet(20, attention=None if block == "none" else block)
    recipe = training.cifar_recipe(
        epochs=args.epochs, steps_per_epoch=len(train), batch_size=128
    )
    recipe.compile(model)
    model.fit(
        train,
        validation_data=test,
        epochs=args.epochs,
        callbacks=recipe.callbacks,
        verbose=0,
    )
    folder.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return model


def logits_twin(model, block):
    twin = cifar_resnet(
        20,
        attention=None if block == "none" else block,
        classifier_activation=None,
    )
    twin.set_weights(model.get_weights())
    return twin


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
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
        "--blocks",
        default="none," + ",".join(keras_chattn.ATTENTION_LAYERS),
        help=("comma-separated registry names of the blocks to compare"),
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=6,
        help=("epochs each CIFAR ResNet-20 trains before it is exported"),
    )
    parser.add_argument(
        "--formats",
        default="saved_model,onnx,litert,litert-int8",
        help=("comma-separated from saved_model, onnx, litert, litert-int8"),
    )
    parser.add_argument(
        "--output-dir",
        default="runs/deployment",
        help="folder for the results, created if needed",
    )
    args = parser.parse_args(argv)
    formats = measure.check_exports(args.formats)
    images, labels = data.load_cifar_arrays(
        "cifar10", "test", data_dir=args.data_dir, normalized=True
    )
    calibration, _ = data.load_cifar_arrays(
        "cifar10", "train", data_dir=args.data_dir, limit=200, normalized=True
    )
    output = pathlib.Path(args.output_dir)
    results = {}
    for block in args.blocks.split(","):
        folder = output / block
        model = logits_twin(trained(block, args, folder), block)
        rows = measure.compare_formats(
            model, folder, formats, images, labels, calibration=calibration
        )
        results[block] = rows
        print(measure.markdown_table(rows, label=block), flush=True)
        (output / "deployment.json").write_text(json.dumps(results, indent=2))
    print(f"\n{len(images)} validation images, {args.epochs} epochs\n")
    lines = []
    for block, rows in results.items():
        table = measure.markdown_table(rows, label=block).splitlines()
        lines += table if not lines else table[2:]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
