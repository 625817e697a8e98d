"""Where source="auto" finds the data, and failing fast when it cannot."""

import pathlib
import time

import keras
import pytest

from keras_chattn.data import DataNotFoundError
from keras_chattn.data import cifar_files
from keras_chattn.data import locate
from tests.data.shared import fake_cifar10

CIFAR10 = cifar_files.LAYOUTS["cifar10"]


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Empty env, tfds and Keras dirs; no network."""
    dirs = {name: tmp_path / name for name in ("given", "env", "tfds", "keras")}
    for folder in dirs.values():
        folder.mkdir()
    monkeypatch.setenv(locate.ENV_VAR, str(dirs["env"]))
    monkeypatch.setenv("TFDS_DATA_DIR", str(dirs["tfds"]))
    monkeypatch.setenv("KERAS_HOME", str(dirs["keras"]))
    monkeypatch.setattr(locate, "reachable", lambda host, timeout=0: False)

    def offline(**kwargs):
        raise Exception(f"URL fetch failure on {kwargs['origin']}: offline")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    return dirs


def prepare_tfds(directory):
    version = directory / "cifar10" / "3.0.2"
    version.mkdir(parents=True)
    (version / "dataset_info.json").write_text("{}")


def test_order_data_dir_env_tfds_keras(places):
    keras_folder = places["keras"] / "datasets" / "cifar-10-batches-py-target"
    fake_cifar10(keras_folder / "cifar-10-batches-py")
    found = locate.find(CIFAR10)
    assert found == locate.Found("files", keras_folder / "cifar-10-batches-py")
    prepare_tfds(places["tfds"])
    assert locate.find(CIFAR10) == locate.Found("tfds", places["tfds"])
    fake_cifar10(places["env"] / "cifar-10-batches-py")
    assert locate.find(CIFAR10) == locate.Found(
        "files", places["env"] / "cifar-10-batches-py"
    )
    fake_cifar10(places["given"])
    assert locate.find(CIFAR10, places["given"]) == locate.Found(
        "files", places["given"]
    )


def test_files_source_skips_tfds(places):
    prepare_tfds(places["tfds"])
    with pytest.raises(DataNotFoundError, match="source='files' never"):
        locate.find(CIFAR10, source="files")


def test_offline_with_nothing_fails_fast_and_says_what_to_do(places):
    started = time.perf_counter()
    with pytest.raises(DataNotFoundError) as raised:
        locate.find(CIFAR10, places["given"])
    assert time.perf_counter() - started < 2
    message = str(raised.value)
    for expected in (
        "the download failed: URL fetch failure",
        str(places["given"]),
        str(places["env"]),
        str(places["tfds"]),
        "--data-dir",
        locate.ENV_VAR,
        CIFAR10.url,
    ):
        assert expected in message


def test_tfds_source_offline_fails_fast(places):
    with pytest.raises(DataNotFoundError, match="no network connection to"):
        locate.find(CIFAR10, source="tfds")


def test_download_goes_through_get_file_with_the_official_hash(
    places, monkeypatch
):
    calls = []

    def fake_get_file(**kwargs):
        calls.append(kwargs)
        target = pathlib.Path(kwargs["cache_dir"], kwargs["cache_subdir"])
        fake_cifar10(target / kwargs["fname"] / CIFAR10.folder)
        return str(target / kwargs["fname"])

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    found = locate.find(CIFAR10, places["given"])
    (call,) = calls
    assert call["origin"] == CIFAR10.url
    assert call["file_hash"] == CIFAR10.sha256 and len(CIFAR10.sha256) == 64
    assert call["extract"] is True
    assert found.kind == "files" and found.path.parent.parent == places["given"]


def test_reachable_is_false_for_a_closed_port():
    started = time.perf_counter()
    assert not locate.reachable(("127.0.0.1", 9), timeout=1.0)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"source": "web"}, ValueError, r"source must be one of .*'web'"),
        ({"data_dir": 3}, ValueError, "data_dir must be a folder path"),
        (
            {"data_dir": "/no/such/folder"},
            DataNotFoundError,
            "'/no/such/folder' is not a folder",
        ),
    ],
)
def test_bad_arguments(places, kwargs, error, message):
    with pytest.raises(error, match=message):
        locate.find(CIFAR10, **kwargs)
