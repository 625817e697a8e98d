"""Train a small CNN with an attention block on real CIFAR-10 images.

Shows the whole life of a keras_chattn layer: a `keras.Sequential` model with
`SqueezeExcite` or `CBAM` after each convolution stage, training (float32 or
mixed precision, on whichever Keras backend is active), saving to `.keras`,
reloading, and exporting a TF SavedModel for serving.

    python examples/attention_quickstart.py \
        --data-dir ../shared/data/cifar-10-batches-py --attention cbam

The data directory is the official "CIFAR-10 python version" layout
(`data_batch_1..5`, `test_batch`). The files are pickles, so they are read
with an unpickler that can only rebuild plain containers and NumPy arrays: a
tampered file cannot run code.
"""

import argparse
import io
import os
import pathlib
import pickle
import time

import keras
import numpy as np

import keras_chattn

TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
MEAN = np.array([0.4914, 0.4822, 0.4465], "float32")
STD = np.array([0.2470, 0.2435, 0.2616], "float32")


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Rebuilds containers, strings, numbers and NumPy arrays, nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name} from a CIFAR file"
        )


def load_cifar10_batch(path):
    """(images uint8 (N, 32, 32, 3), labels int64 (N,)) from one batch file."""
    with open(path, "rb") as handle:
        batch = _ArrayOnlyUnpickler(
            io.BytesIO(handle.read()), encoding="bytes"
        ).load()
    data = np.asarray(batch[b"data"], "uint8").reshape(-1, 3, 32, 32)
    return data.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"], "int64")


def load_cifar10(data_dir):
    data_dir = pathlib.Path(data_dir)
    present = [name for name in TRAIN_FILES if (data_dir / name).exists()]
    if not present or not (data_dir / "test_batch").exists():
        raise SystemExit(
            f"No CIFAR-10 batches in {data_dir}: pass --data-dir pointing at "
            "a 'cifar-10-batches-py' folder."
        )
    parts = [load_cifar10_batch(data_dir / name) for name in present]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_val, y_val = load_cifar10_batch(data_dir / "test_batch")
    return (x_train, y_train), (x_val, y_val)


def normalise(images):
    return (images.astype("float32") / 255.0 - MEAN) / STD


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("KERAS_CHATTN_DATA_DIR"),
        help="folder with the CIFAR-10 python batches",
    )
    parser.add_argument(
        "--attention",
        default="cbam",
        help=f"'none' or one of {sorted(keras_chattn.ATTENTION_LAYERS)}",
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument(
        "--mixed-precision",
        choices=["mixed_float16", "mixed_bfloat16"],
        default=None,
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/quickstart")
    args = parser.parse_args()
    if args.data_dir is None:
        parser.error("pass --data-dir or set KERAS_CHATTN_DATA_DIR")

    keras.utils.set_random_seed(args.seed)
    if args.mixed_precision:
        keras.config.set_dtype_policy(args.mixed_precision)
    (x_train, y_train), (x_val, y_val) = load_cifar10(args.data_dir)
    x_train, x_val = normalise(x_train), normalise(x_val)

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
