"""The official-format reader on the real files and on bad ones."""

import pickle

import numpy as np
import pytest

from keras_chattn.data import CifarFileError
from keras_chattn.data import cifar_files
from tests.data.shared import DATA
from tests.data.shared import TEST_IMAGES
from tests.data.shared import TRAIN_IMAGES
from tests.data.shared import fake_cifar10
from tests.data.shared import needs_data
from tests.data.shared import write_batch

CIFAR10 = cifar_files.LAYOUTS["cifar10"]
CIFAR100 = cifar_files.LAYOUTS["cifar100"]


@needs_data
def test_real_batch_matches_keras_reader():
    images, labels = cifar_files.read_batch(DATA / "data_batch_1", CIFAR10)
    # The shared file is trusted: read it with the plain unpickler.
    with open(DATA / "data_batch_1", "rb") as handle:
        batch = pickle.load(handle, encoding="bytes")
    expected_images = batch[b"data"].reshape(-1, 3, 32, 32)
    expected_labels = np.array(batch[b"labels"])
    assert images.shape == (TEST_IMAGES, 32, 32, 3)
    assert images.dtype == np.uint8 and labels.dtype == np.int32
    np.testing.assert_array_equal(images, expected_images.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(labels, expected_labels)


@needs_data
def test_real_splits_shapes_ranges_and_labels():
    if (DATA / "data_batch_5").is_file():  # the full official files
        x_train, y_train = cifar_files.read_split(DATA, CIFAR10, "train")
    else:  # the shared subset holds 4 of the 5 training files
        with pytest.warns(UserWarning, match="data_batch_5 missing"):
            x_train, y_train = cifar_files.read_split(DATA, CIFAR10, "train")
    x_test, y_test = cifar_files.read_split(DATA, CIFAR10, "test")
    assert x_train.shape == (TRAIN_IMAGES, 32, 32, 3)
    assert x_test.shape == (TEST_IMAGES, 32, 32, 3)
    assert x_train.min() == 0 and x_train.max() == 255
    # Every class is present, roughly 100 per file.
    counts = np.bincount(y_train, minlength=10)
    assert counts.sum() == TRAIN_IMAGES and counts.min() > 300
    assert set(np.unique(y_test)) == set(range(10))
    # Real photographs: channel means near CIFAR-10's published ones.
    np.testing.assert_allclose(
        x_train.reshape(-1, 3).mean(0) / 255, CIFAR10.mean, atol=0.02
    )


def test_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / "code_ran"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Exploit(), b"labels": [0]}))
    with pytest.raises(
        CifarFileError,
        match=r"the global (io|builtins)\.open at byte \d+: a CIFAR file "
        r"names only NumPy's array constructors",
    ) as raised:
        cifar_files.read_batch(path, CIFAR10)
    assert str(path) in str(raised.value)
    assert not marker.exists()


def test_truncated_file_names_the_file(tmp_path):
    fake_cifar10(tmp_path)
    path = tmp_path / "data_batch_1"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CifarFileError, match="truncated or corrupt") as raised:
        cifar_files.read_batch(path, CIFAR10)
    assert str(path) in str(raised.value)


def test_garbage_file_names_the_file(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(CifarFileError, match=str(path)):
        cifar_files.read_batch(path, CIFAR10)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(CifarFileError, match="cannot read CIFAR file .*nope"):
        cifar_files.read_batch(tmp_path / "nope", CIFAR10)


@pytest.mark.parametrize(
    "content, message",
    [
        ([1, 2, 3], "not a CIFAR batch file"),
        ({b"data": np.zeros((2, 3072), "uint8")}, "no b'labels' entry"),
        (
            {b"data": np.zeros((2, 100), "uint8"), b"labels": [0, 1]},
            r"shape \(N, 3072\)",
        ),
        (
            {b"data": np.zeros((2, 3072), "float32"), b"labels": [0, 1]},
            "must be a uint8 array",
        ),
        ({b"data": np.zeros((2, 3072), "uint8"), b"labels": [0]}, "2 integer"),
        (
            {b"data": np.zeros((2, 3072), "uint8"), b"labels": [0, 10]},
            r"labels must lie in \[0, 10\)",
        ),
    ],
)
def test_wrong_content(tmp_path, content, message):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(CifarFileError, match=message):
        cifar_files.read_batch(path, CIFAR10)


def test_round_trip_of_a_written_batch(tmp_path):
    written = fake_cifar10(tmp_path)
    images, labels = cifar_files.read_split(tmp_path, CIFAR10, "test")
    np.testing.assert_array_equal(images, written["test_batch"][0])
    np.testing.assert_array_equal(labels, written["test_batch"][1])


def test_split_without_any_file_is_an_error(tmp_path):
    fake_cifar10(tmp_path, files=("test_batch",))
    with pytest.raises(CifarFileError, match="no cifar10 train file"):
        cifar_files.read_split(tmp_path, CIFAR10, "train")


def test_cifar100_fine_labels(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 32, 32, 3), dtype="uint8")
    write_batch(tmp_path / "test", images, [99, 0, 5, 50, 1], b"fine_labels")
    read, labels = cifar_files.read_split(tmp_path, CIFAR100, "test")
    np.testing.assert_array_equal(read, images)
    assert labels.tolist() == [99, 0, 5, 50, 1]
