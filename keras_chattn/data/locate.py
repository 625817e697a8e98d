"""Finds CIFAR data on this machine, or downloads it when the network allows.

`source="auto"` looks, in order, in `data_dir`, in `$KERAS_CHATTN_DATA_DIR`,
in the tensorflow-datasets data dir (`$TFDS_DATA_DIR` or
`~/tensorflow_datasets`), in the Keras datasets cache (`$KERAS_HOME/datasets`
or `~/.keras/datasets`), and only then downloads the official archive through
`keras.utils.get_file` (cached, checked against its SHA-256). An offline
machine gets a message saying where to put the files.

Nothing here imports TensorFlow.
"""

import dataclasses
import logging
import os
import pathlib

from keras_chattn.data import cifar_files
from keras_chattn.utils.environment import keras_home
from keras_chattn.utils.environment import reachable

ENV_VAR = "KERAS_CHATTN_DATA_DIR"
LOG = logging.getLogger("keras_chattn.data")
SOURCES = ("auto", "tfds", "files")
# tensorflow-datasets retries an unreachable host for minutes (204 s measured
# offline); one TCP connection answers in a second, so only tfds is probed.
TFDS_HOST = ("www.cs.toronto.edu", 443)


class DataNotFoundError(FileNotFoundError):
    """No CIFAR data could be found or downloaded."""


@dataclasses.dataclass(frozen=True)
class Found:
    """Where the data is: official files in `path`, or a tfds data dir."""

    kind: str
    path: pathlib.Path


def keras_datasets_dir():
    return keras_home() / "datasets"


def tfds_default_dir():
    return pathlib.Path(
        os.environ.get("TFDS_DATA_DIR")
        or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")
    )


def files_folder(directory, layout):
    """The folder under `directory` holding the official files, or None.

    `directory` may be the official folder itself, its parent, or Keras'
    download cache (which keeps it under `<folder>-target/`).
    """
    directory = pathlib.Path(directory)
    for folder in (
        directory,
        directory / layout.folder,
        directory / f"{layout.folder}-target" / layout.folder,
    ):
        if cifar_files.holds_files(folder, layout):
            return folder
    return None


def partial_folder(directory, layout):
    """(folder, missing file names) where `directory` holds some of the
    official files but not the test file that marks a complete folder;
    None otherwise."""
    directory = pathlib.Path(directory)
    names = (*layout.train_files, *layout.test_files)
    for folder in (directory, directory / layout.folder):
        present = [name for name in names if (folder / name).is_file()]
        if present:
            missing = [
                name for name in layout.test_files if name not in present
            ]
            return folder, missing
    return None


def prepared_tfds(directory, layout):
    """True when `directory` holds a prepared tfds copy of the dataset."""
    root = pathlib.Path(directory) / layout.name
    return root.is_dir() and any(root.glob("*/dataset_info.json"))


def _check_data_dir(data_dir):
    if data_dir is None:
        return None
    if not isinstance(data_dir, (str, os.PathLike)):
        raise ValueError(
            "data_dir must be a folder path (str or os.PathLike) or None. "
            f"Received: data_dir={data_dir!r}"
        )
    path = pathlib.Path(data_dir).expanduser()
    if not path.is_dir():
        raise DataNotFoundError(
            f"data_dir={str(data_dir)!r} is not a folder. Pass the folder "
            "holding the official CIFAR files (e.g. 'cifar-10-batches-py'), "
            "its parent, or a tensorflow-datasets data dir."
        )
    return path


def find(layout, data_dir=None, source="auto"):
    """Where to read `layout`'s data from, downloading if needed and allowed.

    Args:
        layout: a `cifar_files.CifarLayout`.
        data_dir: a folder to look in first (and to download into).
        source: "auto", "files" (official files only, never downloads) or
            "tfds" (tensorflow-datasets, which downloads when it can).

    Returns:
        A `Found`: `kind` "files" (the folder with the official files) or
        "tfds" (a tfds data dir, prepared or to be prepared).

    Raises:
        DataNotFoundError: nothing local and no download possible; the
            message lists every place searched and how to fix it.
    """
    if source not in SOURCES:
        raise ValueError(
            f"source must be one of {list(SOURCES)}. "
            f"Received: source={source!r}"
        )
    data_dir = _check_data_dir(data_dir)
    env_dir = os.environ.get(ENV_VAR)
    searched = []
    if source == "tfds":
        tfds_dir = data_dir or tfds_default_dir()
        if prepared_tfds(tfds_dir, layout):
            return Found("tfds", tfds_dir)
        searched.append(f"tensorflow-datasets data dir {tfds_dir}")
        return _download(layout, "tfds", tfds_dir, searched)
    for description, directory in (
        ("data_dir", data_dir),
        (f"${ENV_VAR}", pathlib.Path(env_dir) if env_dir else None),
    ):
        if directory is None:
            continue
        folder = files_folder(directory, layout)
        if folder is not None:
            if description != "data_dir" and data_dir is not None:
                LOG.warning(
                    "data_dir %s holds no %s files; reading them from $%s "
                    "= %s instead",
                    data_dir,
                    layout.name,
                    ENV_VAR,
                    folder,
                )
            return Found("files", folder)
        if source == "auto" and prepared_tfds(directory, layout):
            return Found("tfds", directory)
        partial = partial_folder(directory, layout)
        if partial is not None:
            folder, missing = partial
            raise DataNotFoundError(
                f"{description} {folder} holds {layout.name} files but not "
                f"{', '.join(missing)}, which a complete '{layout.folder}' "
                "folder has: copy the missing file there (or pass the "
                "complete folder)."
            )
        searched.append(f"{description} {directory}")
    if source == "auto":
        if prepared_tfds(tfds_default_dir(), layout):
            return Found("tfds", tfds_default_dir())
        searched.append(f"tensorflow-datasets data dir {tfds_default_dir()}")
    folder = files_folder(keras_datasets_dir(), layout)
    if folder is not None:
        return Found("files", folder)
    searched.append(f"Keras datasets cache {keras_datasets_dir()}")
    if source == "files":
        raise _not_found(layout, searched, "source='files' never downloads")
    return _download(
        layout, "files", data_dir or keras_datasets_dir(), searched
    )


def _not_found(layout, searched, reason):
    return DataNotFoundError(
        f"{layout.name} not found ({reason}). Searched: "
        + "; ".join(searched)
        + f". Download {layout.url} where there is a network, unpack it and "
        f"pass the folder as data_dir (--data-dir in the examples) or set "
        f"${ENV_VAR} to it; or put the unpacked '{layout.folder}' folder in "
        f"{keras_datasets_dir()}."
    )


def _download(layout, kind, target, searched):
    if kind == "tfds":
        if not reachable(TFDS_HOST):
            raise _not_found(
                layout,
                searched,
                f"no network connection to {TFDS_HOST[0]} for tensorflow-"
                "datasets' download",
            )
        return Found("tfds", pathlib.Path(target))
    import keras

    # The same name and layout as keras.datasets uses, so either finds the
    # other's download.
    try:
        archive = keras.utils.get_file(
            fname=f"{layout.folder}-target",
            origin=layout.url,
            file_hash=layout.sha256,
            cache_dir=str(pathlib.Path(target).parent),
            cache_subdir=pathlib.Path(target).name,
            extract=True,
        )
    except Exception as error:  # get_file raises a bare Exception
        raise _not_found(
            layout, searched, f"the download failed: {error}"
        ) from None
    for directory in (pathlib.Path(archive), pathlib.Path(archive).parent):
        folder = files_folder(directory, layout)
        if folder is not None:
            return Found("files", folder)
    raise DataNotFoundError(
        f"downloaded {layout.url} to {archive} but found no '{layout.folder}' "
        "folder in it"
    )
