"""UCR/UEA .ts files: the parser, and the datasets shipped in aeon."""

import numpy as np
import pytest

from keras_chattn.data import ucr

HEADER = "# a comment\n@problemName Toy\n@classLabel true a b c\n@data\n"


def write_dataset(folder, name, train, test, header=HEADER):
    (folder / name).mkdir(parents=True)
    (folder / name / f"{name}_TRAIN.ts").write_text(header + train)
    (folder / name / f"{name}_TEST.ts").write_text(header + test)


def test_multivariate_cases_with_missing_values(tmp_path):
    write_dataset(
        tmp_path,
        "Toy",
        "1,2,3,4:0,0,1,1:b\n4,3,2,1:5,5,5,5:a\n",
        "1,?,1,1:2,2,2,2:c\n",
    )
    data = ucr.load_ucr("Toy", data_dir=tmp_path)
    assert data.input_shape == (4, 2) and data.num_classes == 3
    assert data.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(data.train.y, [1, 0])
    np.testing.assert_array_equal(data.test.y, [2])
    # z-normalised per series and dimension; a constant series is 0.
    np.testing.assert_allclose(data.train.x.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(data.train.x[0, :, 0].std(), 1, rtol=1e-5)
    np.testing.assert_array_equal(data.train.x[1, :, 1], 0)
    # The missing value is filled after normalising.
    assert data.test.x[0, 1, 0] == 0 and np.isfinite(data.test.x).all()
    raw = ucr.load_ucr("Toy", data_dir=tmp_path, normalize=False)
    np.testing.assert_array_equal(raw.train.x[0, :, 0], [1, 2, 3, 4])
    assert ucr.available_datasets(tmp_path) == ["Toy"]


@pytest.mark.parametrize(
    "train, message",
    [
        ("1,2,3:a\n1,2:b\n", r"Toy_TRAIN.ts:6: .*equal-length datasets"),
        ("1,2,3:4,5:a\n", r"Toy_TRAIN.ts:5: .*unequal lengths \[2, 3\]"),
        ("1,x,3:a\n", r"Toy_TRAIN.ts:5: not a number: 'x'"),
        # Values past float32 used to load as inf, then as 0 or -inf.
        ("1e39,2,3:a\n", r"Toy_TRAIN.ts:5: '1e39' is not a finite float32"),
        ("inf,2,3:a\n", r"Toy_TRAIN.ts:5: 'inf' is not a finite float32"),
        ("1,2,1e999:a\n", r"'1e999' is not a finite float32"),
        ("-inf,1,2:a\n", r"'-inf' is not a finite float32"),
        ("1,2,3:d\n", r"class labels \['d'\] are not among"),
        ("", r"no cases after @data"),
    ],
)
def test_bad_files_name_the_file_and_line(tmp_path, train, message):
    write_dataset(tmp_path, "Toy", train, "1,2,3:a\n")
    with pytest.raises(ucr.UCRFileError, match=message):
        ucr.load_ucr("Toy", data_dir=tmp_path)


def test_regression_datasets_are_refused(tmp_path):
    header = "@problemName R\n@targetLabel true\n@data\n"
    write_dataset(tmp_path, "R", "1,2:0.5\n", "1,2:0.1\n", header)
    with pytest.raises(ucr.UCRFileError, match=r"regression dataset"):
        ucr.load_ucr("R", data_dir=tmp_path)


def test_a_missing_dataset_lists_what_is_there(tmp_path):
    write_dataset(tmp_path, "Toy", "1,2:a\n", "1,2:a\n")
    with pytest.raises(
        FileNotFoundError, match=r"No UCR/UEA dataset 'Gun'.*\['Toy'\]"
    ):
        ucr.load_ucr("Gun", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"not a folder"):
        ucr.load_ucr("Toy", data_dir=tmp_path / "nowhere")


SHIPPED = {
    # name: (train cases, test cases, length, dimensions, classes)
    "GunPoint": (50, 150, 150, 1, 2),
    "ArrowHead": (36, 175, 251, 1, 3),
    "ItalyPowerDemand": (67, 1029, 24, 1, 2),
    "BasicMotions": (40, 40, 100, 6, 4),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_datasets_shipped_in_aeon_load_offline(name):
    pytest.importorskip("aeon")
    data = ucr.load_ucr(name)
    train, test, length, dims, classes = SHIPPED[name]
    assert data.train.x.shape == (train, length, dims)
    assert data.test.x.shape == (test, length, dims)
    assert data.num_classes == classes
    assert set(np.unique(data.train.y)) == set(range(classes))
    assert data.train.x.dtype == np.float32 and np.isfinite(data.train.x).all()


@pytest.mark.parametrize(
    "name", ["../outside/X", "Toy/../Toy", "/etc/passwd", "", "a b", 3]
)
def test_names_are_names_not_paths(tmp_path, name):
    # A name used to be joined to data_dir, so "../../outside/X" read
    # outside it.
    write_dataset(tmp_path, "Toy", "1,2,3:a\n", "1,2,3:a\n")
    with pytest.raises(ValueError, match=r"name must be a dataset name"):
        ucr.load_ucr(name, data_dir=tmp_path)


def test_memory_stays_within_a_few_times_the_file(tmp_path):
    # A 10 MB .ts used to take past 3 GB (Python floats in lists); values
    # are now parsed into a float32 buffer, about twice the file at most.
    import tracemalloc

    rows = "\n".join(
        ",".join("1.5" for _ in range(500)) + ":a" for _ in range(2000)
    )
    write_dataset(tmp_path, "Big", rows + "\n", "1.5:a\n")
    path = tmp_path / "Big" / "Big_TRAIN.ts"
    size = path.stat().st_size
    tracemalloc.start()
    x, _, _ = ucr.read_ts(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert x.shape == (2000, 500, 1)
    assert peak < 4 * size, (peak, size)
