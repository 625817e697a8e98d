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

import dataclasses
import importlib.util
import os
import pathlib

import numpy as np

from keras_chattn.utils.types import PathLike

# Packages whose wheels ship .ts files, and where inside them.
SHIPPED_IN = (("aeon", "datasets/data"), ("sktime", "datasets/data"))


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
    declared = None
    cases, labels = [], []
    in_data = False
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                words = line.split()
                key = words[0].lower()
                if key == "@targetlabel" and words[1:2] == ["true"]:
                    raise UCRFileError(
                        f"{path}: a regression dataset (@targetLabel true); "
                        "load_ucr reads classification datasets."
                    )
                if key == "@classlabel":
                    if len(words) > 2 and words[1].lower() == "true":
                        declared = tuple(words[2:])
                elif key == "@data":
                    in_data = True
                elif not key.startswith("@"):
                    raise UCRFileError(
                        f"{path}:{number}: expected a header line (@...) or "
                        f"@data before the cases. Received: {line[:60]!r}"
                    )
                continue
            *dimensions, label = line.split(":")
            if not dimensions:
                raise UCRFileError(
                    f"{path}:{number}: a case needs values and a class "
                    f"label separated by ':'. Received: {line[:60]!r}"
                )
            try:
                case = [
                    [_value(v) for v in part.split(",")] for part in dimensions
                ]
            except ValueError as error:
                raise UCRFileError(f"{path}:{number}: {error}") from None
            cases.append(case)
            labels.append(label.strip())
    if not cases:
        raise UCRFileError(f"{path}: no cases after @data")
    lengths = {len(d) for case in cases for d in case}
    widths = {len(case) for case in cases}
    if len(lengths) > 1 or len(widths) > 1:
        raise UCRFileError(
            f"{path}: the series have unequal lengths {sorted(lengths)[:5]} "
            f"or dimension counts {sorted(widths)}; load_ucr reads "
            "equal-length datasets only (pad or resample them first)."
        )
    x = np.asarray(cases, dtype="float32").transpose(0, 2, 1)
    return x, labels, declared


def _value(text):
    text = text.strip()
    if text in ("?", "NaN", "nan"):
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


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
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"name must be a dataset name such as 'GunPoint'. Received: "
            f"name={name!r}"
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
