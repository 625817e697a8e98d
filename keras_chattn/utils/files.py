"""Files written so that a kill or a full disk never leaves half of one.

Every file a run or a search writes (weights, models, histories, configs,
summaries) goes through `atomic_write`: the writer writes a temporary file
next to the target, which is flushed to disk and then renamed over the
target in one step (`os.replace`). A process killed at any moment leaves
either the previous file or the new one, never a truncated one; a write
that fails (ENOSPC, say) removes its temporary file and leaves the previous
file as it was.
"""

import contextlib
import json
import os
import pathlib

TEMPORARY_MARK = ".partial"


def temporary_path(path):
    """The temporary name `atomic_write` writes `path` under.

    It keeps the file's suffix (`best_model.partial.keras`), since Keras
    picks the format of `model.save` and `save_weights` from it.
    """
    path = pathlib.Path(path)
    suffixes = "".join(path.suffixes)
    stem = (
        path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    )
    return path.with_name(f"{stem}{TEMPORARY_MARK}{suffixes}")


@contextlib.contextmanager
def atomic_write(path):
    """Yields a temporary path to write; renames it to `path` on success.

    Examples:

        >>> import pathlib, tempfile
        >>> from keras_chattn.utils.files import atomic_write
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "summary.json"
        >>> with atomic_write(target) as temporary:
        ...     _ = temporary.write_text("{}")
        >>> target.read_text(), temporary.exists()
        ('{}', False)
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        yield temporary
        if not temporary.exists():
            raise FileNotFoundError(
                f"nothing was written to {temporary} for {path}"
            )
        _flush_to_disk(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _flush_directory(path.parent)


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_write(path) as temporary:
        temporary.write_text(text)


def write_json(path, value):
    """Writes `value` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(value, indent=2) + "\n")


def remove_leftovers(folder):
    """Deletes temporary files a killed writer left in `folder`."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for leftover in folder.glob(f"*{TEMPORARY_MARK}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def _flush_to_disk(path):
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _flush_directory(folder):
    # The rename itself reaches the disk only with its directory; not every
    # platform can open a directory, and that is not an error.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
