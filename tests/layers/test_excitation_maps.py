import numpy as np
import pytest

from keras_chattn.layers.excitation_maps import EMPS
from keras_chattn.layers.excitation_maps import bilinear_emp
from keras_chattn.layers.excitation_maps import gaussian_emp
from keras_chattn.layers.excitation_maps import sine_emp
from tests.harness import to_numpy


def render(emp, coefficients, height, width):
    return to_numpy(emp(np.asarray(coefficients, "float32"), height, width))


def test_bilinear_is_eq_2():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.5, size=(2, 3, 4))
    height, width = 5, 7
    got = render(bilinear_emp, p, height, width)
    x = np.arange(width)
    y = np.arange(height)
    for b in range(2):
        for c in range(3):
            iw, ew, ih, eh = p[b, c]
            expected = np.outer(
                ih * (height - y) / height + eh * y / height,
                iw * (width - x) / width + ew * x / width,
            )
            np.testing.assert_allclose(got[b, c], expected, rtol=1e-5)
    # The first row and column start at the "initial" values.
    np.testing.assert_allclose(got[..., 0, 0], p[..., 0] * p[..., 2], rtol=1e-5)


def test_gaussian_is_table_2():
    p = np.array([[[0.7, 0.9, 1.2, 0.6]]])
    got = render(gaussian_emp, p, 4, 6)
    u, v = np.arange(6) / 6, np.arange(4) / 4

    def bump(t, mu, sigma):
        return np.exp(-((t - mu) ** 2) / (2 * sigma**2)) + 0.5

    expected = np.outer(bump(v, 1.2, 0.6), bump(u, 0.7, 0.9))
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-5)


def test_sine_is_table_2():
    p = np.array([[[1.3, 0.6, 0.8, 1.1]]])
    got = render(sine_emp, p, 3, 5)
    u, v = np.arange(5) / 5, np.arange(3) / 3
    expected = np.outer(
        np.sin(0.8 * v + 1.1) / 2 + 1, np.sin(1.3 * u + 0.6) / 2 + 1
    )
    np.testing.assert_allclose(got[0, 0], expected, rtol=1e-5)


@pytest.mark.parametrize(
    "emp, identity", [(bilinear_emp, 1.0), (sine_emp, 0.0)]
)
def test_identity_coefficients(emp, identity):
    got = render(emp, np.full((2, 3, 4), identity), 9, 4)
    np.testing.assert_allclose(got, np.ones((2, 3, 9, 4)), atol=1e-6)


@pytest.mark.parametrize("name", sorted(EMPS))
def test_positive_for_the_block_range(name):
    # The block feeds tanh(P) / 2 + 1, always inside (0.5, 1.5).
    p = np.random.default_rng(1).uniform(0.5, 1.5, size=(4, 8, 4))
    got = render(EMPS[name], p, 11, 13)
    assert got.shape == (4, 8, 11, 13)
    assert np.all(got > 0) and np.all(np.isfinite(got))
