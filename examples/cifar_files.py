"""Command-line data arguments shared by the small examples.

The reading itself is `keras_chattn.data.load_cifar_arrays` (a safe reader
of the official CIFAR files that needs no TensorFlow).
"""

import os

from keras_chattn import data


def add_data_arguments(parser):
    """The --data-dir and --seed arguments every example takes."""
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(data.ENV_VAR),
        help="folder with the CIFAR-10 python batches",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help=("random seed of the weights, shuffling and augmentation"),
    )


def load_normalised(parser, args):
    """((x_train, y_train), (x_val, y_val)) as normalised float32 arrays."""
    if args.data_dir is None:
        parser.error(f"pass --data-dir or set {data.ENV_VAR}")
    return tuple(
        data.load_cifar_arrays(
            "cifar10", split, data_dir=args.data_dir, normalized=True
        )
        for split in ("train", "test")
    )
