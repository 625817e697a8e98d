"""The CIFAR training augmentation, for tf.data and for Keras layers.

He et al. (2016): pad each image with `PAD` = 4 zero pixels on every side,
crop a random 32x32 window, flip horizontally with probability 1/2. The
tf.data pipeline does it with stateless TensorFlow ops (`tf_augment`); the
TensorFlow-free batches with Keras preprocessing layers
(`augmentation_layers`), which give the same images: a shift by a whole
number of pixels in [-4, 4] with zero fill.
"""

import keras

from keras_chattn.data import cifar_files

PAD = 4
# A translation of up to 4 pixels with zero fill and nearest sampling moves
# the image by a whole number of pixels in [-4, 4] and fills with black: the
# same images as padding by 4 zeros and cropping 32x32 at random.
SHIFT_FACTOR = PAD / 32


def tf_augment(tf, image, seed):
    """Pad, random crop and random flip of one HWC image, seeded (int64)."""
    seeds = tf.random.experimental.stateless_split(
        tf.stack([seed, tf.constant(0, tf.int64)]), num=2
    )
    padded = tf.pad(image, [[PAD, PAD], [PAD, PAD], [0, 0]])
    image = tf.image.stateless_random_crop(
        padded, size=cifar_files.IMAGE_SHAPE, seed=seeds[0]
    )
    return tf.image.stateless_random_flip_left_right(image, seed=seeds[1])


def augmentation_layers(seed=None):
    """The CIFAR augmentation as Keras preprocessing layers (any backend).

    A random shift of up to 4 pixels in each direction, filled with zeros,
    then a random horizontal flip. Unlike `keras.layers.RandomCrop`, which
    draws one window for the whole batch, every image gets its own shift.
    Apply it to unnormalised pixel values (0 to 255) so that the fill is
    black, as in the tf.data pipeline.

    Example:

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
