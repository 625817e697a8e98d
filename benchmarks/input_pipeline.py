"""Is the input pipeline ever the bottleneck? Images/s delivered vs consumed.

Measures, in one run on this machine:
- the tf.data training pipeline (`keras_chattn.data.cifar_dataset`, with
  augmentation, shuffling, normalisation, batching), after the first epoch
  has filled its cache;
- the TensorFlow-free pipeline (`keras_chattn.data.CifarBatches`, augmentation
  through Keras preprocessing layers on the current backend);
- a CIFAR ResNet-20 (optionally with an attention block) training step on the
  same batch size, steady state (first epoch excluded), through `model.fit`
  on batches already in memory;
and prints images/s and each pipeline's ratio to the model's rate. The
pipeline should deliver at least 10x what the model consumes.

    python benchmarks/input_pipeline.py \\
        --data-dir ../shared/data/cifar-10-batches-py

Run it by hand; it is not part of the test suite.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402
from keras_chattn import data  # noqa: E402


def pipeline_rate(batches, epochs):
    """Images/s over `epochs` full passes (after one warm-up pass)."""
    for _ in batches:
        pass
    count, started = 0, time.perf_counter()
    for _ in range(epochs):
        for _, labels in batches:
            count += len(labels)
    return count / (time.perf_counter() - started)


def arrays_rate(batches, epochs):
    count, started = 0, time.perf_counter()
    for _ in range(epochs):
        for index in range(len(batches)):
            count += len(batches[index][1])
        batches.on_epoch_end()
    return count / (time.perf_counter() - started)


def model_rate(attention, batch_size, steps, repeats):
    model = keras_chattn.models.build_model(
        "cifar_resnet20",
        input_shape=(32, 32, 3),
        classes=10,
        attention=attention,
    )
    keras_chattn.training.cifar_recipe(epochs=1, steps_per_epoch=steps).compile(
        model
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch_size * steps, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, batch_size * steps)
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        rates.append(len(y) / (time.perf_counter() - started))
    return float(np.median(rates))


def main():
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
        "--batch-size", type=int, default=128, help="images per training step"
    )
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs read from each pipeline"
    )
    parser.add_argument(
        "--attention",
        default="none",
        help=(
            "block of the CIFAR ResNet-20 whose train step is "
            "timed (none: plain)"
        ),
    )
    parser.add_argument(
        "--model-steps",
        type=int,
        default=10,
        help="train steps timed per repeat",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help=("timed repeats of the train steps (the best is kept)"),
    )
    args = parser.parse_args()
    attention = None if args.attention == "none" else args.attention
    rows = []
    if data.tensorflow_available():
        train = data.cifar_dataset(
            data_dir=args.data_dir, batch_size=args.batch_size, seed=0
        )
        rows.append(("tf.data pipeline", pipeline_rate(train, args.epochs)))
    images, labels = data.load_cifar_arrays(data_dir=args.data_dir)
    batches = data.CifarBatches(
        images,
        labels,
        batch_size=args.batch_size,
        augment=True,
        shuffle=True,
        seed=0,
    )
    rows.append(("CifarBatches (arrays)", arrays_rate(batches, 1)))
    consumed = model_rate(
        attention, args.batch_size, args.model_steps, args.repeats
    )
    name = f"ResNet-20 {args.attention} train step"
    print(
        f"backend {keras.backend.backend()}, batch {args.batch_size}, "
        f"{len(labels)} training images\n"
    )
    print(f"| {'what':<32} | {'images/s':>10} | {'x model':>8} |")
    print(f"| {'-' * 32} | {'-' * 10}: | {'-' * 8}: |")
    for what, rate in rows:
        print(f"| {what:<32} | {rate:>10,.0f} | {rate / consumed:>8.1f} |")
    print(f"| {name:<32} | {consumed:>10,.0f} | {1.0:>8.1f} |")


if __name__ == "__main__":
    main()
