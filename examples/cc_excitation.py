"""How do CC-blocks recalibrate? Train and measure tilt and magnitude.

Trains the CC-block paper's CIFAR-10 network (Table 1: [Conv2D 3x3 relu,
MaxPool 2x2] x4, a CC-block-Reduced with the bilinear EMP after every
Conv2D) on CIFAR-10 files, then prints per layer the median tilt
|initial - end| and magnitude |(initial + end)/2 - 1| of the coefficients over
the validation images and channels (the paper's Figure 5 a-b), and the class
separability matrix of Eq. 3 (Figure 5 e).

    python examples/cc_excitation.py \
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
        "--base-width",
        type=int,
        default=32,
        help=("channels of the first convolution of the paper's network"),
    )
    parser.add_argument(
        "--variant",
        default="reduced",
        help=(
            "ContextualConv variant (reduced, full, ...; see docs/layers.md)"
        ),
    )
    parser.add_argument(
        "--epochs", type=int, default=15, help="training epochs"
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="images per training step"
    )
    add_data_arguments(parser)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_val, y_val) = load_normalised(parser, args)

    model = keras_chattn.models.small_cnn(
        "cifar10",
        base_width=args.base_width,
        attention="cc",
        attention_kwargs={"variant": args.variant},
        classifier_activation=None,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
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
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(
        f"\ntrained {args.epochs} epochs in {seconds:.0f} s on "
        f"{len(x_train)} images; {params:,} trainable parameters; val "
        f"accuracy {history.history['val_accuracy'][-1]:.4f}"
    )
    print(f"{'layer':<26}{'tilt w':>8}{'tilt h':>8}{'mag w':>8}{'mag h':>8}")
    for row in keras_chattn.analysis.excitation_statistics(model, x_val):
        print(
            f"{row['layer']:<26}"
            + "".join(
                f"{np.median(row[k]):>8.4f}"
                for k in ("tilt_w", "tilt_h", "magnitude_w", "magnitude_h")
            )
        )
    matrix, classes = keras_chattn.analysis.class_separability(
        model, x_val, y_val
    )
    total = sum(
        4 * layer.input.shape[-1]
        for layer in model.layers
        if isinstance(layer, keras_chattn.ContextualConv)
    )
    print(f"\nclass separability (coefficients with p < 0.01, of {total}):")
    print("     " + "".join(f"{c:>5}" for c in classes))
    for c, row in zip(classes, matrix, strict=True):
        print(f"{c:>5}" + "".join(f"{v:>5}" for v in row))
    off = matrix[~np.eye(len(classes), dtype=bool)].mean()
    print(f"mean diagonal {np.diag(matrix).mean():.1f}, off-diagonal {off:.1f}")


if __name__ == "__main__":
    main()
