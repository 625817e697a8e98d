"""Trainable parameters of every builder with every registry block.

    python benchmarks/model_sizes.py            # 1000-class ImageNet models
    python benchmarks/model_sizes.py --conv-bias  # keras.applications style

Builds each model symbolically (no forward pass) and prints a Markdown table:
one row per builder, one column per block (`none` first), plus the multiply-
adds per image from `keras_chattn.models.summary_table`.
"""

import argparse
import math

import keras_chattn
from keras_chattn import models

BUILDERS = {
    "ResNet-18": lambda **kw: models.ResNet18(**kw),
    "ResNet-34": lambda **kw: models.ResNet34(**kw),
    "ResNet-50": lambda **kw: models.ResNet50(**kw),
    "ResNet-101": lambda **kw: models.ResNet101(**kw),
    "ResNet-152": lambda **kw: models.ResNet152(**kw),
    "VGG-16": lambda conv_bias, **kw: models.VGG16(**kw),
    "VGG-19": lambda conv_bias, **kw: models.VGG19(**kw),
    "CIFAR ResNet-20": lambda conv_bias, **kw: models.cifar_resnet(20, **kw),
    "CIFAR ResNet-56": lambda conv_bias, **kw: models.cifar_resnet(56, **kw),
    "CIFAR ResNet-110": lambda conv_bias, **kw: models.cifar_resnet(110, **kw),
    "small_cnn cifar100/32": lambda conv_bias, **kw: models.small_cnn(
        "cifar100", 32, **kw
    ),
}


def trainable(model):
    return sum(math.prod(w.shape) for w in model.trainable_weights)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conv-bias", action="store_true")
    parser.add_argument("--macs", action="store_true", help="also MACs")
    args = parser.parse_args()
    blocks = ["none", *keras_chattn.ATTENTION_LAYERS]
    print("| builder | " + " | ".join(blocks) + " |")
    print("| --- |" + " ---: |" * len(blocks))
    for label, build in BUILDERS.items():
        cells = []
        for block in blocks:
            model = build(conv_bias=args.conv_bias, attention=block)
            cell = f"{trainable(model):,}"
            if args.macs:
                macs = models.summary_table(model, print_fn=None)[-1]["macs"]
                cell += f" / {macs / 1e9:.3f} G"
            cells.append(cell)
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
