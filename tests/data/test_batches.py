"""TensorFlow-free batches: arrays, Keras preprocessing augmentation."""

import numpy as np
import pytest

from keras_chattn.data import CifarBatches
from keras_chattn.data import load_cifar_arrays
from keras_chattn.data import normalize
from tests.data.augmentation_check import check_augmented
from tests.data.augmentation_check import denormalize
from tests.data.shared import DATA
from tests.data.shared import TRAIN_IMAGES
from tests.data.shared import needs_data


@needs_data
def test_load_cifar_arrays_limit_and_normalized():
    images, labels = load_cifar_arrays(data_dir=DATA)
    assert images.shape == (TRAIN_IMAGES, 32, 32, 3)
    first, first_labels = load_cifar_arrays(data_dir=DATA, limit=10)
    np.testing.assert_array_equal(first, images[:10])
    np.testing.assert_array_equal(first_labels, labels[:10])
    scaled, _ = load_cifar_arrays(data_dir=DATA, limit=10, normalized=True)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, normalize(images[:10]))


@needs_data
def test_augmented_batches_are_padded_crops_per_image():
    images, labels = load_cifar_arrays(data_dir=DATA, limit=48)
    batches = CifarBatches(images, labels, batch_size=16, augment=True, seed=5)
    assert len(batches) == 3
    got = [batches[i] for i in range(3)]
    augmented = np.concatenate([x for x, _ in got])
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), labels)
    transforms = check_augmented(images, denormalize(augmented))
    assert len({(dy, dx) for dy, dx, _ in transforms}) > 10
    assert 0 < sum(flipped for _, _, flipped in transforms) < 48


def test_shuffle_is_seeded_and_changes_each_epoch():
    images = np.zeros((10, 32, 32, 3), "uint8")
    labels = np.arange(10)

    def epoch(batches):
        order = np.concatenate([batches[i][1] for i in range(len(batches))])
        batches.on_epoch_end()
        return order

    one = CifarBatches(images, labels, batch_size=4, shuffle=True, seed=0)
    two = CifarBatches(images, labels, batch_size=4, shuffle=True, seed=0)
    first = epoch(one)
    np.testing.assert_array_equal(first, epoch(two))
    assert sorted(first) == list(range(10))
    assert not np.array_equal(first, epoch(one))


def test_channels_first_and_unshuffled_order():
    images = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 3), "uint8")
    batches = CifarBatches(
        images, np.arange(5), batch_size=5, data_format="channels_first"
    )
    x, y = batches[0]
    assert x.shape == (5, 3, 32, 32) and y.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(x, normalize(images).transpose(0, 3, 1, 2))


@pytest.mark.parametrize(
    "images, labels, kwargs, message",
    [
        (np.zeros((2, 28, 28, 1)), np.zeros(2), {}, r"images must be .*28, 28"),
        (np.zeros((2, 32, 32, 3)), np.zeros(3), {}, r"labels must have shape"),
        (np.zeros((2, 32, 32, 3)), np.zeros(2), {"batch_size": 0}, "batch_s"),
        (np.zeros((2, 32, 32, 3)), np.zeros(2), {"augment": 1}, "augment"),
        (np.zeros((2, 32, 32, 3)), np.zeros(2), {"name": "x"}, "name must"),
    ],
)
def test_bad_arguments(images, labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CifarBatches(images, labels, **kwargs)


def test_index_out_of_range():
    batches = CifarBatches(np.zeros((3, 32, 32, 3), "uint8"), np.zeros(3))
    with pytest.raises(IndexError, match="batch index 1 out of range"):
        batches[1]
