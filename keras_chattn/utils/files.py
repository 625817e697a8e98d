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
import errno
import fcntl
import json
import os
import pathlib
import shutil

TEMPORARY_MARK = ".partial"
LOCK_NAME = ".run.lock"
# Room kept free beyond what a write needs (file system metadata, logs).
SPARE_BYTES = 16 * 1024**2


class StorageError(OSError):
    """A file could not be written (full disk, read-only folder, ...): the
    message names the path; what was there before is left as it was."""

    def __str__(self):
        return str(self.strerror or super().__str__())


class FolderInUse(RuntimeError):
    """Another live process holds the folder's lock."""


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
    temporary = temporary_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary
        if not temporary.exists():
            raise FileNotFoundError(
                f"nothing was written to {temporary} for {path}"
            )
        _flush_to_disk(temporary)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(error, OSError) and not isinstance(
            error, (StorageError, FileNotFoundError)
        ):
            raise StorageError(
                error.errno, f"cannot write {path}: {error.strerror or error}"
            ) from None
        raise
    _flush_directory(path.parent)


def ensure_room(folder, needed, what):
    """Raises `StorageError` naming `folder` unless it has `needed` bytes
    (plus a margin) free: HDF5 crashed the process (SIGSEGV) when the disk
    filled during a write, so a write that cannot fit is not started."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed + SPARE_BYTES:
        raise StorageError(
            errno.ENOSPC,
            f"cannot write {what} in {folder}: it needs about "
            f"{needed / 2**20:,.0f} MB and the disk has {free / 2**20:,.0f} "
            "MB free. Free some space and run the same command again "
            "(nothing written so far is lost)",
        )


class FolderLock:
    """A folder's lock (`.run.lock`), for one run at a time in a folder.

    `acquire()` raises `FolderInUse`, naming the process, when another live
    process holds it; in one process it is re-entrant (counted). The lock
    is the operating system's (`flock`): it ends with its process, however
    that ends, so a killed run never leaves it held.

    Examples:

        >>> import tempfile
        >>> from keras_chattn.utils.files import FolderLock
        >>> with FolderLock(tempfile.mkdtemp()) as lock:
        ...     lock.held
        True
    """

    _held = {}  # resolved folder -> [descriptor, count], this process's

    def __init__(self, folder):
        self.folder = pathlib.Path(folder).resolve()
        self._count = 0

    @property
    def held(self):
        return self._count > 0

    def acquire(self):
        entry = self._held.get(self.folder)
        if entry is None:
            entry = self._held[self.folder] = [self._lock(), 0]
        entry[1] += 1
        self._count += 1
        return self

    def release(self):
        if not self._count:
            return
        self._count -= 1
        entry = self._held[self.folder]
        entry[1] -= 1
        if entry[1] == 0:
            del self._held[self.folder]
            os.close(entry[0])  # releases the lock

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exception):
        self.release()

    def _lock(self):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(
                self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644
            )
        except OSError as error:
            raise StorageError(
                error.errno,
                f"cannot use {self.folder}: {error.strerror or error}",
            ) from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace")
            os.close(descriptor)
            raise FolderInUse(
                f"{self.folder} is in use by another run (process "
                f"{holder.strip() or '?'}): two runs cannot share a folder. "
                "Wait for it to end, or use another folder."
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(os.getpid()).encode(), 0)
        return descriptor


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_write(path) as temporary:
        temporary.write_text(text)


def write_json(path, value):
    """Writes `value` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(value, indent=2) + "\n")


def remove_leftovers(folder):
    """Deletes temporary files a killed writer left in `folder` (call it
    holding the folder's lock: a live writer's files look the same)."""
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
