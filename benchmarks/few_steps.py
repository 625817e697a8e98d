"""A few training steps of CIFAR ResNet-20 variants on real CIFAR-10 images.

    python benchmarks/few_steps.py --optimizer adam \
        --data-dir ../shared/data/cifar-10-batches-py

Prints, for no block, BA-Net blocks, the bridge head (every convolution's
output, or every stage's) and BA with the bridge head, the parameter
counts and Keras' running mean of the loss after each of 10 steps of 64
images (seed 0), and the seconds taken.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ start-up logs

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_chattn  # noqa: E402

VARIANTS = {
    "none": {},
    "ba": {"attention": "ba"},
    "bridge": {"head": "bridge"},
    "bridge_stages": {"head": "bridge_stages"},
    "ba+bridge": {"attention": "ba", "head": "bridge"},
}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        required=True,
        help=(
            "a cifar-10-batches-py folder (or its parent); "
            "unset: $KERAS_CHATTN_DATA_DIR, then "
            "tensorflow-datasets"
        ),
    )
    parser.add_argument(
        "--optimizer",
        choices=["adam", "sgd"],
        default="adam",
        help="optimizer of the few training steps",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=10,
        help="training steps (of 64 images) per network",
    )
    args = parser.parse_args()
    x, y = keras_chattn.data.load_cifar_arrays(
        data_dir=args.data_dir, limit=64 * args.steps, normalized=True
    )
    for label, kwargs in VARIANTS.items():
        keras.utils.set_random_seed(0)
        model = keras_chattn.models.cifar_resnet(
            20, classifier_activation=None, **kwargs
        )
        optimizer = (
            keras.optimizers.Adam(1e-3)
            if args.optimizer == "adam"
            else keras.optimizers.SGD(0.05, momentum=0.9)
        )
        model.compile(
            optimizer,
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        losses = []
        record = keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs, seen=losses: seen.append(
                logs["loss"]
            )
        )
        started = time.perf_counter()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[record])
        seconds = time.perf_counter() - started
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
        print(
            f"{label:14s} trainable={trainable:,} non_trainable={frozen:,} "
            "losses="
            + " ".join(f"{v:.3f}" for v in losses)
            + f"  {seconds:.1f}s"
        )


if __name__ == "__main__":
    main()
