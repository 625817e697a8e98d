"""UCR/UEA time-series classification datasets from `.ts` files, offline.

The aeon and sktime wheels ship a few UCR/UEA datasets inside the package
(aeon 1.x: ArrowHead, GunPoint, ItalyPowerDemand, OSULeaf, BasicMotions,
...), as `<Name>/<Name>_TRAIN.ts` and `<Name>_TEST.ts` in the archive's
`.ts` format. `load_ucr` reads them (or any folder of downloaded archive
files: `data_dir`) with its own parser: neither package is imported (aeon
pulls in numba), only found on disk.

The `.ts` format: `#` comment lines, `@` header lines (`@problemName`,
`@univariate`, `@dimensions`, `@equalLength`, `@seriesLength`,
`@classLabel true <labels...>`, ...), then after `@data` one case per
line: each dimension's comma-separated values, dimensions separated by
`:`, the class label last; `?` or `NaN` is a missing value.
"""

import array
import dataclasses
import importlib.util
import math
import os
import pathlib
import re

import numpy as np

from keras_chattn.utils.types import PathLike

# Packages whose wheels ship .ts files, and where inside them.
SHIPPED_IN = (("aeon", "datasets/data"), ("sktime", "datasets/data"))
# The archive's largest files are a few hundred MB; a file far past that
# is refused unread.
MAX_FILE_BYTES = 2 * 1024**3
FLOAT32_MAX = float(np.finfo("float32").max)
# A dataset name: letters, digits, "_" and "-" (never a path).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


class UCRFileError(ValueError):
    """A `.ts` file that cannot be read, with the file and line named."""


@dataclasses.dataclass(frozen=True)
class TimeSeriesSplit:
    """One split of a dataset.

    Attributes:
        x: float32 array `(cases, length, dimensions)` (channels last).
        y: int32 class indices into `class_names`.
    """

    x: np.ndarray
    y: np.ndarray


@dataclasses.dataclass(frozen=True)
class UCRDataset:
    """A dataset's train and test splits (the archive's own split)."""

    name: str
    train: TimeSeriesSplit
    test: TimeSeriesSplit
    class_names: tuple

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def input_shape(self):
        """`(length, dimensions)`, what `resnet1d` takes."""
        return tuple(self.train.x.shape[1:])


def shipped_dirs():
    """The folders of `.ts` datasets inside installed aeon/sktime wheels."""
    found = []
    for package, inside in SHIPPED_IN:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            folder = pathlib.Path(location) / inside
            if folder.is_dir():
                found.append(folder)
    return found


def available_datasets(data_dir: PathLike | None = None) -> list[str]:
    """Names of the datasets with both a `_TRAIN.ts` and a `_TEST.ts` file
    in `data_dir` (or, without it, the aeon/sktime wheels), sorted."""
    names = set()
    for folder in _search_dirs(data_dir):
        for train in folder.glob("*/*_TRAIN.ts"):
            name = train.name[: -len("_TRAIN.ts")]
            if (train.parent / f"{name}_TEST.ts").is_file():
                names.add(name)
    return sorted(names)


def _search_dirs(data_dir):
    if data_dir is not None:
        folder = pathlib.Path(os.fspath(data_dir)).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(
                f"data_dir must be a folder holding <Name>/<Name>_TRAIN.ts "
                f"files. Received: data_dir={os.fspath(data_dir)!r}, which "
                "is not a folder"
            )
        return [folder]
    return shipped_dirs()


def _dataset_files(name, data_dir):
    for folder in _search_dirs(data_dir):
        train = folder / name / f"{name}_TRAIN.ts"
        test = folder / name / f"{name}_TEST.ts"
        if train.is_file() and test.is_file():
            return train, test
    where = (
        f"data_dir={os.fspath(data_dir)!r}"
        if data_dir is not None
        else "the installed aeon/sktime wheels (pip install aeon)"
    )
    raise FileNotFoundError(
        f"No UCR/UEA dataset {name!r} in {where}: expected "
        f"{name}/{name}_TRAIN.ts and {name}_TEST.ts. Available there: "
        f"{available_datasets(data_dir) or 'none'}. Download others from "
        "https://timeseriesclassification.com and pass data_dir."
    )


def read_ts(path):
    """(x `(cases, length, dimensions)` float32, labels as strings,
    declared class labels) of one `.ts` file.

    Bounded by the file: values are parsed a line at a time into a float32
    buffer (4 bytes per value, and every value takes at least 2 bytes of
    the file), so memory stays within about twice the file's size; files
    over `MAX_FILE_BYTES` are refused unread. A value that is not a finite
    float32 (`inf`, `1e39`, `1e999`) is refused with its line; `?` and
    `NaN` are missing values.

    Examples:

        >>> import pathlib, tempfile
        >>> from keras_chattn.data.ucr import read_ts
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "Toy_TRAIN.ts"
        >>> _ = path.write_text(
        ...     "@problemName Toy\\n@classLabel true a b\\n@data\\n"
        ...     "1,2,3:4,5,6:a\\n7,8,9:0,?,1:b\\n"
        ... )
        >>> x, labels, classes = read_ts(path)
        >>> x.shape, labels, classes
        ((2, 3, 2), ['a', 'b'], ('a', 'b'))
        >>> float(x[1, 1, 1])
        nan
    """
    path = pathlib.Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UCRFileError(
            f"{path} is {size:,} bytes; .ts files over {MAX_FILE_BYTES:,} "
            "bytes are refused unread (the archive's largest is far smaller)."
        )
    declared = None
    values = array.array("f")
    labels = []
    shape = None
    in_data = False
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data, declared = _header(path, number, line, declared)
                continue
            case_shape = _read_case(path, number, line, values, labels)
            if shape is None:
                shape = case_shape
            elif case_shape != shape:
                raise UCRFileError(
                    f"{path}:{number}: a case of {case_shape[0]} dimensions "
                    f"of length {case_shape[1]} after cases of "
                    f"{shape[0]} of length {shape[1]}; load_ucr reads "
                    "equal-length datasets only (pad or resample them first)."
                )
    if not labels:
        raise UCRFileError(f"{path}: no cases after @data")
    x = np.frombuffer(values, dtype="float32").reshape(len(labels), *shape)
    return x.transpose(0, 2, 1).copy(), labels, declared


def _header(path, number, line, declared):
    """(whether @data starts here, the declared class labels)."""
    words = line.split()
    key = words[0].lower()
    if key == "@targetlabel" and words[1:2] == ["true"]:
        raise UCRFileError(
            f"{path}: a regression dataset (@targetLabel true); load_ucr "
            "reads classification datasets."
        )
    if key == "@classlabel":
        if len(words) > 2 and words[1].lower() == "true":
            declared = tuple(words[2:])
    elif key == "@data":
        return True, declared
    elif not key.startswith("@"):
        raise UCRFileError(
            f"{path}:{number}: expected a header line (@...) or @data before "
            f"the cases. Received: {line[:60]!r}"
        )
    return False, declared


def _read_case(path, number, line, values, labels):
    """Appends one case's values to `values` and its label to `labels`;
    returns its (dimensions, length)."""
    *dimensions, label = line.split(":")
    if not dimensions:
        raise UCRFileError(
            f"{path}:{number}: a case needs values and a class label "
            f"separated by ':'. Received: {line[:60]!r}"
        )
    lengths = set()
    for part in dimensions:
        texts = part.split(",")
        lengths.add(len(texts))
        for text in texts:
            values.append(_value(path, number, text))
    if len(lengths) > 1:
        raise UCRFileError(
            f"{path}:{number}: the dimensions of a case have unequal "
            f"lengths {sorted(lengths)[:5]}; load_ucr reads equal-length "
            "datasets only (pad or resample them first)."
        )
    labels.append(label.strip())
    return len(dimensions), lengths.pop()


def _value(path, number, text):
    """One value as a float, NaN for a missing one; anything that is not
    a finite float32 is refused, naming the line."""
    text = text.strip()
    if text in ("?", "NaN", "nan"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise UCRFileError(
            f"{path}:{number}: not a number: {text[:40]!r}"
        ) from None
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        raise UCRFileError(
            f"{path}:{number}: {text[:40]!r} is not a finite float32 value "
            f"(at most {FLOAT32_MAX:.4g} in magnitude); write a missing "
            "value as '?'."
        )
    return value


def znormalize(x):
    """Each series and dimension to mean 0 and standard deviation 1 over
    time (a constant series becomes 0), as the UCR archive's convention."""
    mean = np.nanmean(x, axis=1, keepdims=True)
    std = np.nanstd(x, axis=1, keepdims=True)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype("float32")


def load_ucr(
    name: str,
    data_dir: PathLike | None = None,
    normalize: bool = True,
    fill_missing: float | None = 0.0,
) -> UCRDataset:
    """Loads a UCR/UEA dataset's train and test splits.

    Args:
        name: dataset name, e.g. `"GunPoint"` (see `available_datasets`).
        data_dir: a folder of `<Name>/<Name>_TRAIN.ts` files; default: the
            datasets inside the installed aeon (or sktime) wheel.
        normalize: z-normalise every series over time. Defaults to `True`.
        fill_missing: value for missing points (after normalising), or
            None to keep NaN. Defaults to `0.0`.

    Returns:
        A `UCRDataset`; labels are indices into `class_names` (the
        `@classLabel` order of the file, else sorted).

    Examples:

        >>> from keras_chattn.data.ucr import load_ucr
        >>> data = load_ucr("GunPoint")  # from the aeon wheel
        >>> data.train.x.shape, data.test.x.shape, data.class_names
        ((50, 150, 1), (150, 150, 1), ('1', '2'))
    """
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(
            "name must be a dataset name such as 'GunPoint' (letters, "
            "digits, '_' and '-', not a path: pass the folder as data_dir). "
            f"Received: name={name!r}"
        )
    train_path, test_path = _dataset_files(name, data_dir)
    x_train, train_labels, declared = read_ts(train_path)
    x_test, test_labels, _ = read_ts(test_path)
    class_names = declared or tuple(
        sorted(set(train_labels) | set(test_labels))
    )
    index = {label: i for i, label in enumerate(class_names)}
    splits = []
    for path, x, labels in [
        (train_path, x_train, train_labels),
        (test_path, x_test, test_labels),
    ]:
        unknown = sorted(set(labels) - set(index))
        if unknown:
            raise UCRFileError(
                f"{path}: class labels {unknown} are not among the declared "
                f"@classLabel {list(class_names)}"
            )
        if normalize:
            x = znormalize(x)
        if fill_missing is not None:
            x = np.where(np.isnan(x), np.float32(fill_missing), x)
        y = np.asarray([index[label] for label in labels], "int32")
        splits.append(TimeSeriesSplit(x.astype("float32"), y))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise UCRFileError(
            f"{name}: train series are {x_train.shape[1:]} (length, "
            f"dimensions) and test series {x_test.shape[1:]}"
        )
    return UCRDataset(name, splits[0], splits[1], tuple(class_names))
