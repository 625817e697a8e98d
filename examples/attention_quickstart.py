"""Train a small CNN with an attention block on real CIFAR-10 images.

Shows the whole life of a keras_chattn layer: a `keras.Sequential` model with
`SqueezeExcite` or `CBAM` after each convolution stage, training (float32 or
mixed precision, on whichever Keras backend is active), saving to `.keras`,
reloading, and exporting a TF SavedModel for serving.

    python examples/attention_quickstart.py \
        --data-dir ../shared/data/cifar-10-batches-py --attention cbam

The data directory is the official "CIFAR-10 python version" layout
(`data_batch_1..5`, `test_batch`), read by `keras_chattn.data`.
"""

import argparse
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402
from cifar_files import add_data_arguments  # noqa: E402
from cifar_files import load_normalised  # noqa: E402

import keras_chattn  # noqa: E402


def build_model(attention, width=32, classes=10):
    """Three conv stages, each followed by the attention block, then GAP."""
    model = keras.Sequential([keras.Input((32, 32, 3))], name="quickstart")
    # Standard CIFAR augmentation (flip, shift by up to 4 pixels with zero
    # fill); these layers only act in training and run on every backend.
    model.add(keras.layers.RandomFlip("horizontal", name="flip"))
    model.add(
        keras.layers.RandomTranslation(
            0.125, 0.125, fill_mode="constant", name="shift"
        )
    )
    for stage, filters in enumerate([width, 2 * width, 4 * width], start=1):
        for conv in (1, 2):
            model.add(
                keras.layers.Conv2D(
                    filters,
                    3,
                    padding="same",
                    use_bias=False,
                    name=f"stage{stage}_conv{conv}",
                )
            )
            model.add(
                keras.layers.BatchNormalization(name=f"stage{stage}_bn{conv}")
            )
            model.add(keras.layers.ReLU(name=f"stage{stage}_relu{conv}"))
        block = keras_chattn.create_attention(
            attention, reduction=8, name=f"stage{stage}_attention"
        )
        if block is not None:
            model.add(block)
        model.add(keras.layers.MaxPooling2D(name=f"stage{stage}_pool"))
    model.add(keras.layers.GlobalAveragePooling2D(name="avg_pool"))
    # The classifier output stays float32 under mixed precision.
    model.add(keras.layers.Dense(classes, dtype="float32", name="predictions"))
    return model


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--attention",
        default="cbam",
        help=f"'none' or one of {sorted(keras_chattn.ATTENTION_LAYERS)}",
    )
    parser.add_argument("--epochs", type=int, default=3, help="training epochs")
    parser.add_argument(
        "--batch-size", type=int, default=64, help="images per training step"
    )
    parser.add_argument(
        "--width",
        type=int,
        default=32,
        help="channels of the first stage (doubled per stage)",
    )
    parser.add_argument(
        "--mixed-precision",
        choices=["mixed_float16", "mixed_bfloat16"],
        default=None,
        help="a Keras mixed-precision policy (unset: float32)",
    )
    parser.add_argument(
        "--out",
        default="runs/quickstart",
        help="folder for the saved model and SavedModel",
    )
    add_data_arguments(parser)
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        keras.config.set_dtype_policy(args.mixed_precision)
    (x_train, y_train), (x_val, y_val) = load_normalised(parser, args)

    model = build_model(args.attention, width=args.width)
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
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

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keras_path = out / f"{args.attention}.keras"
    model.save(keras_path)
    reloaded = keras.saving.load_model(keras_path)
    same = np.allclose(
        model.predict(x_val[:64], verbose=0),
        reloaded.predict(x_val[:64], verbose=0),
        atol=1e-5,
    )
    exported = "skipped (needs the TensorFlow or JAX backend)"
    if keras.backend.backend() in ("tensorflow", "jax"):
        model.export(
            os.fspath(out / f"{args.attention}_savedmodel"), verbose=False
        )
        exported = os.fspath(out / f"{args.attention}_savedmodel")

    print()
    print(f"backend             {keras.backend.backend()}")
    print(f"dtype policy        {keras.config.dtype_policy().name}")
    print(f"attention           {args.attention}")
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(f"trainable params    {params:,}")
    print(f"train images        {len(x_train)}  (val {len(x_val)})")
    print(f"epochs / seconds    {args.epochs} / {seconds:.1f}")
    val_accuracy = history.history["val_accuracy"]
    print(
        f"val accuracy        {val_accuracy[-1]:.4f} last, "
        f"{max(val_accuracy):.4f} best"
    )
    print(f"saved               {keras_path} (reload equal: {same})")
    print(f"exported            {exported}")


if __name__ == "__main__":
    main()
