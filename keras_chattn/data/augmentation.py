"""The CIFAR training augmentation: one definition for every pipeline.

He et al. (2016): pad each image with `PAD` = 4 zero pixels on every side,
crop a random 32x32 window, flip horizontally with probability 1/2.
`augment` does it in NumPy from a `numpy.random.Generator`, and
`batch_generator` gives the generator of one batch of one epoch from the
seed alone; the tf.data pipeline (`cifar_dataset`) and the TensorFlow-free
batches (`CifarBatches`) both call them, so their batches are equal.
`augmentation_layers` is the same transformation as Keras preprocessing
layers, for models that augment in the graph (with Keras' own random
numbers, not keyed by epoch).
"""

import keras
import numpy as np

PAD = 4
# A translation of up to 4 pixels with zero fill and nearest sampling moves
# the image by a whole number of pixels in [-4, 4] and fills with black: the
# same images as padding by 4 zeros and cropping 32x32 at random.
SHIFT_FACTOR = PAD / 32


def batch_generator(seed, epoch, index):
    """The random numbers of batch `index` of epoch `epoch`: a function
    of the three alone (never of what the process did before)."""
    return np.random.default_rng([seed, epoch, index, 1])


def augment(images, rng):
    """Pad, random crop and random flip of a uint8 NHWC batch, in NumPy.

    Each image gets its own offsets in [0, 2 * PAD] and its own flip, drawn
    from `rng` (a `numpy.random.Generator`).

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.data.augmentation import augment
        >>> images = np.ones((2, 32, 32, 3), "uint8")
        >>> out = augment(images, np.random.default_rng(0))
        >>> out.shape, out.dtype, int(out.max())
        ((2, 32, 32, 3), dtype('uint8'), 1)
    """
    count, height, width = images.shape[:3]
    offsets = rng.integers(0, 2 * PAD + 1, size=(count, 2))
    flips = rng.random(count) < 0.5
    padded = np.pad(images, ((0, 0), (PAD, PAD), (PAD, PAD), (0, 0)))
    out = np.empty_like(images)
    for index, ((top, left), flip) in enumerate(
        zip(offsets, flips, strict=True)
    ):
        crop = padded[index, top : top + height, left : left + width]
        out[index] = crop[:, ::-1] if flip else crop
    return out


def augmentation_layers(seed: int | None = None) -> keras.Sequential:
    """The CIFAR augmentation as Keras preprocessing layers (any backend).

    A random shift of up to 4 pixels in each direction, filled with zeros,
    then a random horizontal flip. Unlike `keras.layers.RandomCrop`, which
    draws one window for the whole batch, every image gets its own shift.
    Apply it to unnormalised pixel values (0 to 255) so that the fill is
    black, as in the tf.data pipeline.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.data import augmentation_layers
        >>> augment = augmentation_layers(seed=0)
        >>> images = np.ones((2, 32, 32, 3), "float32")
        >>> tuple(augment(images, training=True).shape)
        (2, 32, 32, 3)
    """
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(
                SHIFT_FACTOR,
                SHIFT_FACTOR,
                fill_mode="constant",
                interpolation="nearest",
                fill_value=0.0,
                seed=seed,
                data_format="channels_last",
            ),
            keras.layers.RandomFlip(
                "horizontal", seed=seed, data_format="channels_last"
            ),
        ],
        name="cifar_augmentation",
    )
