"""How much fresh CC-blocks change the scale of the activations they gate.

    python benchmarks/cc_activation_scale.py \\
        --data-dir ../shared/data/cifar-10-batches-py

For each EMP (bilinear, Gaussian, sine) of a freshly initialised
CC-block-Reduced, on real CIFAR-10 images (normalised):

- map mean / min / max: the excitation map S a fresh block renders on the
  ReLU features of a fresh 3x3 convolution (64 channels, 32x32);
- 8 stacked: RMS of the output of 8 fresh blocks applied in a row to those
  features, divided by the RMS of the features;
- small_cnn / VGG-16: RMS of the last feature map of the CC-block paper's
  CIFAR-100 network (8 blocks) and of VGG-16 (13 blocks) with a block after
  every convolution, divided by the same network without blocks (same
  convolution weights, copied by name).

A block that leaves activations at their scale has a map mean near 1 and
ratios near 1. Prints one table.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn.layers import ContextualConv  # noqa: E402
from keras_chattn.layers.excitation_maps import EMPS  # noqa: E402
from keras_chattn.models import copy_weights_by_name  # noqa: E402

EMP_NAMES = ("bilinear", "gaussian", "sine")


def rms(x):
    x = keras.ops.convert_to_numpy(x).astype("float64")
    return float(np.sqrt(np.mean(np.square(x))))


def images(args):
    try:
        x, _ = keras_chattn.data.load_cifar_arrays(
            data_dir=args.data_dir, limit=args.images, normalized=True
        )
        return x, "CIFAR-10"
    except (ValueError, OSError):
        rng = np.random.default_rng(0)
        return rng.normal(size=(args.images, 32, 32, 3)).astype("float32"), (
            "Gaussian noise (no CIFAR files found)"
        )


def network_ratio(build, emp, x, seed):
    keras.utils.set_random_seed(seed)
    plain = build(None)
    keras.utils.set_random_seed(seed)
    gated = build(emp)
    copy_weights_by_name(plain, gated)
    return rms(gated.predict(x, verbose=0)) / rms(plain.predict(x, verbose=0))


def main():
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
        "--images",
        type=int,
        default=64,
        help=(
            "images measured (real ones with --data-dir, else "
            "standard-normal inputs)"
        ),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=("random seed of the weights, shuffling and augmentation"),
    )
    args = parser.parse_args()
    x, source = images(args)
    keras.utils.set_random_seed(args.seed)
    features = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)

    def small_cnn(emp):
        return keras_chattn.models.small_cnn(
            "cifar100",
            include_top=False,
            attention=emp and "cc",
            attention_kwargs=emp and {"emp": emp},
        )

    def vgg16(emp):
        return keras_chattn.models.VGG16(
            include_top=False,
            input_shape=(32, 32, 3),
            attention=emp and "cc",
            attention_kwargs=emp and {"emp": emp},
        )

    print(f"inputs: {len(x)} images of {source}, seed {args.seed}")
    print(
        f"{'EMP':<10}{'map mean':>10}{'min':>8}{'max':>8}{'8 stacked':>11}"
        f"{'small_cnn':>11}{'VGG-16':>10}"
    )
    for emp in EMP_NAMES:
        keras.utils.set_random_seed(args.seed)
        block = ContextualConv(emp=emp)
        block.build(features.shape)
        height, width = features.shape[1:3]
        excitation = keras.ops.convert_to_numpy(
            EMPS[emp](block.coefficients(features), height, width)
        )
        stacked = features
        for _ in range(8):
            stacked = ContextualConv(emp=emp)(stacked)
        print(
            f"{emp:<10}{excitation.mean():>10.3f}{excitation.min():>8.3f}"
            f"{excitation.max():>8.3f}{rms(stacked) / rms(features):>11.3f}"
            f"{network_ratio(small_cnn, emp, x, args.seed):>11.3f}"
            f"{network_ratio(vgg16, emp, x, args.seed):>10.3f}"
        )


if __name__ == "__main__":
    main()
