"""Does a C3 block make channels more diverse? Train and measure.

Trains a CIFAR ResNet-20 with cross-channel communication (C3) blocks on
CIFAR-10 files, then reports, for each C3 block, the channel diversity d (mean
absolute correlation between channels, lower = more diverse) of its input
and of its output on the validation images, before and after training: the
C3 poster's claim is that the output is more diverse than the input.

    python examples/c3_diversity.py \
        --data-dir ../shared/data/cifar-10-batches-py
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402
from cifar_files import add_data_arguments  # noqa: E402
from cifar_files import load_normalised  # noqa: E402

import keras_chattn  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=20,
        help="CIFAR ResNet depth (20, 32, 44, 56, 110)",
    )
    parser.add_argument(
        "--epochs", type=int, default=10, help="training epochs"
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="images per training step"
    )
    add_data_arguments(parser)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_val, y_val) = load_normalised(parser, args)

    network = keras_chattn.models.cifar_resnet(
        args.depth, attention="c3", classifier_activation=None
    )
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant"),
            network,
        ]
    )
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    model.compile(
        optimizer=keras.optimizers.SGD(
            keras.optimizers.schedules.CosineDecay(0.1, steps),
            momentum=0.9,
            nesterov=True,
            weight_decay=5e-4,
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    print("C3 blocks, untrained:")
    keras_chattn.analysis.diversity_report(network, x_val, print_fn=print)
    started = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=2,
    )
    seconds = time.perf_counter() - started
    print(
        f"\ntrained {args.epochs} epochs in {seconds:.0f} s on "
        f"{len(x_train)} images; val accuracy "
        f"{history.history['val_accuracy'][-1]:.4f}"
    )
    print("C3 blocks, trained (validation images):")
    rows = keras_chattn.analysis.diversity_report(
        network, x_val, print_fn=print
    )
    more = sum(row["more_diverse"] for row in rows)
    print(f"output more diverse than input in {more} of {len(rows)} blocks")
    params = sum(int(np.prod(w.shape)) for w in network.trainable_weights)
    print(f"trainable parameters {params:,}")


if __name__ == "__main__":
    main()
