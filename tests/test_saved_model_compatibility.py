"""`.keras` files written by an earlier version still load and agree.

The files in `tests/fixtures/saved_models` were written once by
`tests/fixtures/make_saved_models.py` with the code named in their
`VERSION` file (random weights, so that every weight shows in the output);
refactoring must not change the names, configs or weight layout they rely
on.
"""

import pathlib

import keras
import numpy as np
import pytest

import keras_chattn  # noqa: F401  (registers the layers)

SAVED = pathlib.Path(__file__).resolve().parent / "fixtures" / "saved_models"
EXPECTED = np.load(SAVED / "outputs.npz")
NAMES = sorted(p.stem for p in SAVED.glob("*.keras"))


def test_every_fixture_has_its_outputs():
    assert len(NAMES) == 7
    assert set(NAMES) <= set(EXPECTED.files)


@pytest.mark.parametrize("name", NAMES)
def test_an_earlier_file_loads_with_the_same_outputs(name):
    model = keras.saving.load_model(SAVED / f"{name}.keras")
    outputs = keras.ops.convert_to_numpy(model(EXPECTED["images"]))
    np.testing.assert_allclose(outputs, EXPECTED[name], rtol=1e-5, atol=1e-6)
