"""Crafted data files fail fast with CifarFileError; legitimate ones load."""

import logging
import pickle
import re
import textwrap
import time

import numpy as np
import pytest

from keras_chattn import data
from keras_chattn.data import cifar_files
from tests.data.shared import fake_cifar10
from tests.data.shared import write_batch
from tests.processes import run_python

LAYOUT = cifar_files.LAYOUTS["cifar10"]


def _pixels(count):
    return np.zeros((count, 3072), "uint8")


def _nested_shared_list(levels, width=10):
    value = [0] * width
    for _ in range(levels - 1):
        value = [value] * width  # shared references: tiny in a pickle
    return value


def test_memory_bomb_labels_fail_within_seconds_under_a_2gb_limit(tmp_path):
    # Labels as 10 levels of 10 shared references: a few hundred bytes of
    # pickle that np.asarray would expand into 10**10 entries (it used to
    # exhaust 23 GB and be OOM-killed after 114 s).
    path = tmp_path / "data_batch_1"
    batch = {b"data": _pixels(10), b"labels": _nested_shared_list(10)}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    assert path.stat().st_size < 50_000  # the 10 images: 30,720 bytes
    code = textwrap.dedent(
        f"""
        import resource, time
        from keras_chattn.data import cifar_files
        used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with open("/proc/self/statm") as f:
            virtual = int(f.read().split()[0]) * resource.getpagesize()
        # 2 GB more address space than the imports took, no more.
        limit = virtual + 2 * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        started = time.perf_counter()
        try:
            layout = cifar_files.LAYOUTS["cifar10"]
            cifar_files.read_batch({str(path)!r}, layout)
        except cifar_files.CifarFileError as error:
            print("refused in", round(time.perf_counter() - started, 3), error)
        """
    )
    started = time.perf_counter()
    completed = run_python(code, timeout=120)
    assert "refused in" in completed.stdout
    assert "nested more than 4 deep" in completed.stdout
    assert time.perf_counter() - started < 60


@pytest.mark.parametrize(
    "labels, message",
    [
        ([[1]] * 4, "labels must be integers; found a list"),
        ([0, 1, 2], "expected a list of 4 integer labels.*a list of 3"),
        ([0, 1, 2, 10**30], r"an integer wider than 64 bits"),
        ([0, 1, 2, 10**9], r"labels must lie in \[0, 10\)"),
        ([0, 1, True, 3], "found a bool"),
        ("0123", "expected a list of 4 integer labels.*found str"),
        (np.zeros((4, 1), "int64"), r"found int64 labels of shape \(4, 1\)"),
    ],
)
def test_crafted_labels_are_refused(tmp_path, labels, message):
    path = tmp_path / "data_batch_1"
    batch = {b"data": _pixels(4), b"labels": labels}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(cifar_files.CifarFileError, match=message):
        cifar_files.read_batch(path, LAYOUT)


def test_bytes_of_a_huge_size_is_refused_not_allocated(tmp_path):
    class HugeBytes:
        def __reduce__(self):
            return (bytes, (10**12,))

    path = tmp_path / "data_batch_1"
    path.write_bytes(
        pickle.dumps(
            {b"data": _pixels(1), b"labels": [0], b"x": HugeBytes()}, 2
        )
    )
    with pytest.raises(
        cifar_files.CifarFileError, match=r"a call of (__builtin__|builtins)"
    ):
        cifar_files.read_batch(path, LAYOUT)


def test_protocol_2_pickle_with_an_empty_bytes_value_loads(tmp_path):
    # Python 3 pickles b"" as a call of bytes() in protocol 2; it used to be
    # refused as tampered.
    path = tmp_path / "data_batch_1"
    batch = {
        b"batch_label": b"",
        b"data": _pixels(2),
        b"labels": [3, 4],
        b"filenames": [b"", b"a.png"],
    }
    path.write_bytes(pickle.dumps(batch, protocol=2))
    images, labels = cifar_files.read_batch(path, LAYOUT)
    assert images.shape == (2, 32, 32, 3) and labels.tolist() == [3, 4]


def test_oversized_file_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar_files, "MAX_FILE_BYTES", 1000)
    path = write_batch(tmp_path / "data_batch_1", np.zeros((1, 32, 32, 3)), [0])
    with pytest.raises(cifar_files.CifarFileError, match="refused unread"):
        cifar_files.read_batch(path, LAYOUT)


def test_keys_of_any_type_give_a_cifar_error(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({1: 2, "a": 3, (1, 2): 4}, protocol=2))
    with pytest.raises(
        cifar_files.CifarFileError,
        match="not a CIFAR batch|a dict key that is not a name",
    ):
        cifar_files.read_batch(path, LAYOUT)


def test_folder_without_the_test_file_names_it(tmp_path):
    fake_cifar10(tmp_path / "cifar", files=("data_batch_1", "data_batch_2"))
    with pytest.raises(data.DataNotFoundError, match="but not test_batch"):
        data.load_cifar_arrays(data_dir=tmp_path / "cifar", split="train")


def test_empty_data_dir_falling_back_to_the_variable_says_so(
    tmp_path, monkeypatch, caplog
):
    fake_cifar10(tmp_path / "real")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "real"))
    with caplog.at_level(logging.WARNING, logger="keras_chattn.data"):
        images, _ = data.load_cifar_arrays(
            data_dir=tmp_path / "empty", split="test"
        )
    assert len(images) == 6
    assert "holds no cifar10 files; reading them from" in caplog.text


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    # ENOSPC (or any error) while writing: the old file survives whole and
    # no temporary file is left behind.
    import errno

    from keras_chattn.utils import files

    target = tmp_path / "best_model.keras"
    target.write_bytes(b"previous model")
    with pytest.raises(OSError, match="No space left"):
        with files.atomic_write(target) as temporary:
            temporary.write_bytes(b"half a mod")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_bytes() == b"previous model"
    assert list(tmp_path.iterdir()) == [target]


# Crafted files a hostile review sent at the earlier unpickler (which
# admitted `_reconstruct`, `ndarray` and `_codecs.encode`): each segfaulted,
# allocated gigabytes or ran for days. The reader walks opcodes instead.
def _deep_tuple_key(depth=200_000):
    """A dict whose key is a tuple nested `depth` deep (~200 KB): the C
    unpickler overflowed its stack hashing it (SIGSEGV)."""
    return b"\x80\x02}" + b")" + b"\x85" * depth + b"K\x00s."


def _strided_ndarray(rows=700_000):
    """`numpy.ndarray((rows, 3072), uint8, b"\\0", 0, (0, 0))` (a few hundred
    bytes): a view of one byte that `np.ascontiguousarray` expanded to
    rows * 3,072 bytes (2 GiB here)."""

    class Strided:
        def __reduce__(self):
            arguments = ((rows, 3072), np.dtype("u1"), b"\0", 0, (0, 0))
            return (np.ndarray, arguments)

    return pickle.dumps({b"data": Strided(), b"labels": []}, protocol=2)


def _punycode_text(characters=50_000):
    """`_codecs.encode(<distinct characters>, "punycode")` (~150 KB), a
    quadratic encoding: past 90 s at 50,000 characters."""
    code_points = [c for c in range(0x100, 0x30000) if not 0xD800 <= c < 0xE000]
    text = "".join(chr(c) for c in code_points[:characters])
    encoded = text.encode("utf-8")
    return (
        b"\x80\x02}q\x00(U\x04data"
        b"c_codecs\nencode\n"
        + b"X"
        + len(encoded).to_bytes(4, "little")
        + encoded
        + b"X\x08\x00\x00\x00punycode\x86R"
        + b"U\x06labels]u."
    )


CRAFTED = {
    "deep tuple key": (_deep_tuple_key, r"nested more than 4 deep"),
    "strided ndarray": (_strided_ndarray, r"a call of numpy\.ndarray"),
    "punycode text": (_punycode_text, r"a call of _codecs\.encode"),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_files_end_in_the_readers_error_under_3gb(tmp_path, name):
    make, message = CRAFTED[name]
    path = tmp_path / "data_batch_1"
    path.write_bytes(make())
    code = textwrap.dedent(
        f"""
        import resource
        cap = 3 * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        import time
        from keras_chattn.data import cifar_files
        started = time.perf_counter()
        try:
            layout = cifar_files.LAYOUTS["cifar10"]
            cifar_files.read_batch({str(path)!r}, layout)
        except cifar_files.CifarFileError as error:
            print("refused in", round(time.perf_counter() - started, 2), error)
        """
    )
    completed = run_python(code, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "refused in" in completed.stdout, completed.stderr[-2000:]
    seconds = float(completed.stdout.split("refused in", 1)[1].split()[0])
    assert seconds < 5, completed.stdout
    assert re.search(message, completed.stdout), completed.stdout
