"""A gallery of what a model's attention blocks do on CIFAR-10 images.

    python examples/visualize_attention.py \\
        --data-dir ../shared/data/cifar-10-batches-py \\
        --model-path runs/cbam/best_model.keras \\
        --compare-path runs/plain/best_model.keras
    python examples/visualize_attention.py --data-dir ... --train cbam

Writes into --output-dir (default runs/gallery) PNGs and an index.html
that shows them: each block's spatial maps over validation images, the
mean channel weights per class and block (the SE paper's excitation
across depth), CC excitation maps, C3 affinities, and Grad-CAM of the
model (and of --compare-path, e.g. the same network without attention)
side by side. With --train, a CIFAR ResNet-20 with that block is trained
first for --epochs epochs (saved as <output-dir>/model.keras).
"""

import argparse
import html
import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import analysis  # noqa: E402
from keras_chattn import data  # noqa: E402
from keras_chattn import plotting  # noqa: E402
from keras_chattn import training  # noqa: E402

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
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
        "--model-path", default=None, help="a trained .keras model to draw"
    )
    parser.add_argument(
        "--compare-path",
        default=None,
        help=(
            "a second .keras model drawn beside the first (e.g."
            " without attention)"
        ),
    )
    parser.add_argument(
        "--train",
        default=None,
        choices=sorted(keras_chattn.ATTENTION_LAYERS),
        help="train a CIFAR ResNet-20 with this block first",
    )
    parser.add_argument(
        "--epochs", type=int, default=10, help="training epochs with --train"
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help=("use only the first N images of each split (unset: all)"),
    )
    parser.add_argument(
        "--images", type=int, default=4, help="validation images per figure"
    )
    parser.add_argument(
        "--output-dir",
        default="runs/gallery",
        help="folder for the results, created if needed",
    )
    args = parser.parse_args(argv)
    if (args.model_path is None) == (args.train is None):
        parser.error("pass one of --model-path and --train")
    return args


def trained_model(args, output_dir):
    keras.utils.set_random_seed(0)
    model = keras_chattn.models.cifar_resnet(20, attention=args.train)
    train = data.cifar_dataset(
        data_dir=args.data_dir, seed=0, limit=args.limit, epochs=args.epochs
    )
    test = data.cifar_dataset(
        split="test", data_dir=args.data_dir, limit=args.limit
    )
    steps = len(train) // args.epochs
    recipe = training.cifar_recipe(args.epochs, steps)
    recipe.compile(model)
    model.fit(
        train,
        validation_data=test,
        epochs=args.epochs,
        steps_per_epoch=steps,
        verbose=2,
    )
    model.save(output_dir / "model.keras")
    return model


def last_of_each_stage(blocks):
    """The last block of each stage (`conv3_block3_attention` of
    conv3_*), or every block of a model named otherwise (at most 4)."""
    stages = {}
    for name in blocks:
        stages[name.split("_")[0]] = name
    chosen = list(stages.values()) if len(stages) > 1 else list(blocks)
    return {name: blocks[name] for name in chosen[-4:]}


def save(figure, path, pictures):
    """Saves `figure` as a 256-colour PNG (a few tens of KB)."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=64, format="png")
    plt.close(figure)
    image = Image.open(buffer).convert("RGB")
    image.quantize(colors=256).save(path, optimize=True)
    pictures.append(path.name)


def gallery(model, compare, images, labels, output_dir, count):
    """Every picture the model's blocks allow; returns the file names."""
    x = data.normalize(images)
    shown, shown_labels = images[:count], labels[:count]
    predicted = np.argmax(model.predict(x[:count], verbose=0), axis=-1)
    maps = analysis.attention_maps(model, x[:count])
    pictures = []
    spatial = {}
    for name, block in maps.items():
        view = plotting.callback.spatial_view(block)
        if view is not None:
            spatial[name] = view
    if spatial:
        # Three blocks spread over the depth: first, middle, last.
        names = list(spatial)
        picks = sorted({0, len(names) // 2, len(names) - 1})
        chosen = {names[i]: spatial[names[i]] for i in picks}
        figure = plotting.spatial_maps(
            shown, chosen, shown_labels, predicted, CLASSES,
            title=f"{model.name}: spatial attention (mean over channels)",
        )  # fmt: skip
        save(figure, output_dir / "spatial_maps.png", pictures)
    try:
        excitation = analysis.class_excitation(model, x, labels)
    except ValueError:
        excitation = None
    if excitation:
        figure = plotting.channel_excitation(
            last_of_each_stage(excitation),
            CLASSES,
            f"{model.name}: channel weights per class",
        )
        save(figure, output_dir / "channel_excitation.png", pictures)
    for name, block in maps.items():
        if "coefficients" in block and block["excitation"].shape[1] > 1:
            figure = plotting.cc_excitation(
                block["excitation"][0], shown[0], 6, f"{name}: excitation maps"
            )
            save(figure, output_dir / "cc_excitation.png", pictures)
            break
    affinities = {
        name: block["affinity"].mean(axis=0)
        for name, block in maps.items()
        if "affinity" in block
    }
    if affinities:
        figure = plotting.affinity(affinities)
        save(figure, output_dir / "c3_affinity.png", pictures)
    heat, predictions = {}, {}
    for network in [m for m in (model, compare) if m is not None]:
        blocks = len(analysis.attention_layers(network))
        label = (
            f"{network.name}, {blocks} blocks"
            if blocks
            else (f"{network.name}, no attention")
        )
        heat[label], predictions[label] = analysis.grad_cam(network, x[:count])
    figure = plotting.grad_cam_overlays(
        shown, heat, shown_labels, predictions, CLASSES
    )
    save(figure, output_dir / "grad_cam.png", pictures)
    summary = {
        name: round(block["spread"], 4)
        for name, block in (excitation or {}).items()
    }
    return pictures, summary


def write_index(output_dir, pictures, title):
    items = "\n".join(
        f'<h2>{html.escape(p)}</h2><img src="{html.escape(p)}">'
        for p in pictures
    )
    (output_dir / "index.html").write_text(
        f"<!doctype html><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1>\n{items}\n"
    )


def main(argv=None):
    args = parse_arguments(argv)
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if args.train:
        model = trained_model(args, output_dir)
    else:
        model = keras_chattn.saving.load_model(args.model_path)
    compare = None
    if args.compare_path:
        compare = keras_chattn.saving.load_model(args.compare_path)
    images, labels = data.load_cifar_arrays(
        split="test", data_dir=args.data_dir, limit=args.limit
    )
    pictures, spread = gallery(
        model, compare, images, labels, output_dir, args.images
    )
    write_index(output_dir, pictures, f"Attention in {model.name}")
    (output_dir / "class_spread.json").write_text(json.dumps(spread, indent=2))
    print(f"{len(pictures)} pictures in {output_dir}: {', '.join(pictures)}")
    print("class spread per block:", json.dumps(spread))
    return pictures, spread


if __name__ == "__main__":
    main(sys.argv[1:])
