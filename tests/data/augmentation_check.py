"""Recognises a CIFAR augmentation: a zero-filled shift of up to 4 pixels."""

import numpy as np

from keras_chattn.data import LAYOUTS

PAD = 4


def denormalize(images, name="cifar10"):
    layout = LAYOUTS[name]
    raw = (np.asarray(images) * layout.std + layout.mean) * 255.0
    return np.rint(raw).astype("int64")


def find_transform(original, augmented):
    """(dy, dx, flipped) with augmented == shift(flip?(original)), or None.

    `augmented[i, j] = padded[i + PAD + dy, j + PAD + dx]`, padded with zeros.
    """
    padded = np.pad(original.astype("int64"), ((PAD, PAD), (PAD, PAD), (0, 0)))
    for flipped in (False, True):
        source = padded[:, ::-1] if flipped else padded
        for dy in range(-PAD, PAD + 1):
            for dx in range(-PAD, PAD + 1):
                window = source[
                    PAD + dy : PAD + dy + 32, PAD + dx : PAD + dx + 32
                ]
                if np.array_equal(window, augmented):
                    return dy, dx, flipped
    return None


def check_augmented(originals, augmented):
    """Every image is an allowed transform; returns the transforms found."""
    transforms = []
    for index, (original, image) in enumerate(
        zip(originals, augmented, strict=True)
    ):
        transform = find_transform(original, image)
        assert transform is not None, f"image {index} is not a padded crop"
        transforms.append(transform)
    return transforms
