"""Trainable parameters of every builder with every registry block.

    python benchmarks/model_sizes.py            # 1000-class ImageNet models
    python benchmarks/model_sizes.py --conv-bias  # keras.applications style

Builds each model symbolically (no forward pass) and prints a Markdown table:
one row per builder, one column per block (`none` first), plus with
`--macs` the multiply-adds per image from `keras_chattn.models.summary_table`
in both its conventions: the papers' (weighted layers only) / ours (also
the blocks' element-wise work).
"""

import argparse
import functools
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras_chattn  # noqa: E402
from keras_chattn import models  # noqa: E402

# --conv-bias applies to the ImageNet ResNets only; the others keep their own
# default, which is what their papers count (VGG and the small CNNs with
# biases, the CIFAR ResNets without).
BUILDERS = {
    "ResNet-18": models.ResNet18,
    "ResNet-34": models.ResNet34,
    "ResNet-50": models.ResNet50,
    "ResNet-101": models.ResNet101,
    "ResNet-152": models.ResNet152,
    "VGG-16": models.VGG16,
    "VGG-19": models.VGG19,
    "CIFAR ResNet-20": models.CifarResNet20,
    "CIFAR ResNet-56": models.CifarResNet56,
    "CIFAR ResNet-110": models.CifarResNet110,
    "small_cnn cifar100/32": functools.partial(
        models.small_cnn, "cifar100", 32
    ),
}
TAKES_CONV_BIAS = tuple(
    label for label in BUILDERS if label.startswith("ResNet")
)


def trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--conv-bias",
        action="store_true",
        help=("biases in the convolutions (the papers count without)"),
    )
    parser.add_argument(
        "--macs",
        action="store_true",
        help="also multiply-adds: the papers' convention / ours",
    )
    parser.add_argument(
        "--blocks",
        default=None,
        help="comma-separated registry names (unset: none and all)",
    )
    parser.add_argument(
        "--builders",
        default=None,
        help=f"comma-separated rows (unset: all of {list(BUILDERS)})",
    )
    args = parser.parse_args()
    blocks = ["none", *keras_chattn.ATTENTION_LAYERS]
    if args.blocks:
        blocks = args.blocks.split(",")
    builders = BUILDERS
    if args.builders:
        builders = {k: BUILDERS[k] for k in args.builders.split(",")}
    print("| builder | " + " | ".join(blocks) + " |")
    print("| --- |" + " ---: |" * len(blocks))
    for label, build in builders.items():
        cells = []
        for block in blocks:
            kwargs = {}
            if label in TAKES_CONV_BIAS:
                kwargs["conv_bias"] = args.conv_bias
            model = build(attention=block, **kwargs)
            cell = f"{trainable(model):,}"
            if args.macs:
                total = models.summary_table(model, print_fn=None)[-1]
                cell += (
                    f" / {total['weighted_macs'] / 1e9:.3f} G"
                    f" / {total['macs'] / 1e9:.3f} G"
                )
            cells.append(cell)
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
