"""The tf.data pipeline on the real files and through mocked tfds."""

import numpy as np
import pytest

from keras_chattn.data import cifar_dataset
from keras_chattn.data import load_cifar_arrays
from keras_chattn.data import locate
from keras_chattn.data import normalize
from tests.data.augmentation_check import check_augmented
from tests.data.augmentation_check import denormalize
from tests.data.shared import DATA
from tests.data.shared import TEST_IMAGES
from tests.data.shared import needs_data


def batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


@needs_data
def test_test_split_is_the_normalised_files_in_order():
    dataset = cifar_dataset(split="test", data_dir=DATA, batch_size=100)
    assert int(dataset.cardinality()) == 11
    got = batches(dataset)
    images = np.concatenate([x for x, _ in got])
    labels = np.concatenate([y for _, y in got])
    x_test, y_test = load_cifar_arrays(split="test", data_dir=DATA)
    assert (
        images.shape == (TEST_IMAGES, 32, 32, 3) and images.dtype == np.float32
    )
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, y_test)
    np.testing.assert_allclose(images, normalize(x_test), atol=1e-6)
    # Normalised with the training statistics: near zero mean, unit spread.
    assert abs(images.mean()) < 0.1 and 0.9 < images.std() < 1.1


@needs_data
def test_training_batches_are_augmented_per_image():
    dataset = cifar_dataset(
        data_dir=DATA, batch_size=32, limit=64, shuffle=False, seed=3
    )
    images = np.concatenate([x for x, _ in batches(dataset)])
    originals, _ = load_cifar_arrays(data_dir=DATA, limit=64)
    transforms = check_augmented(originals, denormalize(images))
    assert len({(dy, dx) for dy, dx, _ in transforms}) > 20
    assert 10 < sum(flipped for _, _, flipped in transforms) < 54


@needs_data
def test_same_seed_same_batches_new_order_each_epoch():
    def make(seed):
        return cifar_dataset(data_dir=DATA, batch_size=16, limit=48, seed=seed)

    first, again, other = make(1), make(1), make(2)
    epoch1, epoch2 = batches(first), batches(first)
    for (x1, y1), (x2, y2) in zip(epoch1, batches(again), strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    labels = [
        np.concatenate([y for _, y in epoch]) for epoch in (epoch1, epoch2)
    ]
    assert not np.array_equal(labels[0], labels[1])
    assert sorted(labels[0]) == sorted(labels[1])
    assert not np.array_equal(epoch1[0][0], batches(other)[0][0])


@needs_data
def test_limit_channels_first_and_no_cache():
    dataset = cifar_dataset(
        split="test",
        data_dir=DATA,
        batch_size=8,
        limit=20,
        data_format="channels_first",
        cache=False,
        drop_remainder=True,
    )
    shapes = [x.shape for x, _ in batches(dataset)]
    assert shapes == [(8, 3, 32, 32), (8, 3, 32, 32)]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "mnist"}, r"name must be one of \['cifar10', 'cifar100'\]"),
        ({"split": "val"}, r"split must be one of \['train', 'test'\]"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"batch_size": None}, "batch_size must be a positive integer"),
        ({"limit": -1}, "limit must be a positive integer or None"),
        ({"seed": "x"}, "seed must be a non-negative integer"),
        ({"augment": "yes"}, "augment must be True, False or None"),
        ({"cache": None}, "cache must be True or False"),
        ({"data_format": "nhwc"}, "data_format must be"),
        ({"source": "web"}, "source must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cifar_dataset(**kwargs)


def test_tfds_source_with_mock_data(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setattr(locate, "reachable", lambda host, timeout=0: True)
    with tfds.testing.mock_data(num_examples=20):
        dataset = cifar_dataset(
            source="tfds", data_dir=tmp_path, batch_size=8, limit=12, seed=0
        )
        got = batches(dataset)
        images, labels = load_cifar_arrays(source="tfds", data_dir=tmp_path)
    assert [x.shape for x, _ in got] == [(8, 32, 32, 3), (4, 32, 32, 3)]
    assert got[0][0].dtype == np.float32 and got[0][1].dtype == np.int32
    assert images.shape == (20, 32, 32, 3) and images.dtype == np.uint8
    assert labels.min() >= 0 and labels.max() < 10


def test_auto_finds_a_prepared_tfds_copy(tmp_path, monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    version = tmp_path / "cifar10" / "3.0.2"
    version.mkdir(parents=True)
    (version / "dataset_info.json").write_text("{}")
    monkeypatch.delenv(locate.ENV_VAR, raising=False)
    with tfds.testing.mock_data(num_examples=10):
        dataset = cifar_dataset(split="test", data_dir=tmp_path, batch_size=10)
        ((images, labels),) = batches(dataset)
    assert images.shape == (10, 32, 32, 3)


@needs_data
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_both_pipelines_serve_the_same_batches(data_format):
    # One augmentation: the tf.data pipeline (with epochs=) and the
    # TensorFlow-free CifarBatches give equal batches, epoch by epoch,
    # for the same seed, and a resumed pipeline (first_epoch=1) the same
    # second epoch.
    from keras_chattn.data import CifarBatches

    common = {"batch_size": 16, "seed": 5, "data_format": data_format}
    dataset = cifar_dataset(data_dir=DATA, limit=40, epochs=2, **common)
    served = batches(dataset)
    images, labels = load_cifar_arrays(data_dir=DATA, limit=40)
    arrays = CifarBatches(images, labels, augment=True, shuffle=True, **common)
    expected = []
    for _ in range(2):
        expected += [arrays[i] for i in range(len(arrays))]
        arrays.on_epoch_end()
    assert len(served) == len(expected) == 6
    for (x, y), (x_expected, y_expected) in zip(served, expected, strict=True):
        np.testing.assert_array_equal(y, y_expected)
        np.testing.assert_allclose(x, x_expected, atol=0)
    resumed = cifar_dataset(
        data_dir=DATA, limit=40, epochs=2, first_epoch=1, **common
    )
    for (x, _), (x_expected, _) in zip(
        batches(resumed), expected[3:], strict=True
    ):
        np.testing.assert_array_equal(x, x_expected)
