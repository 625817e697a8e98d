import numpy as np
import pytest

from keras_chattn.layers.excitation_maps import EMP_RANGES
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


def gaussian_factor(size, c_mu, c_sigma):
    """0.5 + N(u; mu, sigma) on pixel centres u, as the module documents."""
    u = (np.arange(size) + 0.5) / size
    mu = c_mu - 0.5
    sigma = 0.7413011092528009 * 3.0 ** (2 * (c_sigma - 1))
    density = np.exp(-((u - mu) ** 2) / (2 * sigma**2))
    return density / (sigma * np.sqrt(2 * np.pi)) + 0.5


def sine_factor(size, c_v, c_phi):
    """sin(v t + phi) / 2 + 1 on centred positions t, as documented."""
    t = (np.arange(size) + 0.5) / size - 0.5
    return np.sin(8 * np.pi * (c_v - 1) * t + np.pi * (c_phi - 1)) / 2 + 1


@pytest.mark.parametrize(
    "emp, factor, coefficients",
    [
        (gaussian_emp, gaussian_factor, [[0.7, 0.9, 1.2, 0.6]]),
        (gaussian_emp, gaussian_factor, [[1.45, 1.3, 0.55, 1.0]]),
        (sine_emp, sine_factor, [[1.3, 0.6, 0.8, 1.1]]),
        (sine_emp, sine_factor, [[0.55, 1.45, 1.2, 0.9]]),
    ],
    ids=["gaussian", "gaussian-edges", "sine", "sine-edges"],
)
def test_table_2_maps_are_products_of_the_documented_factors(
    emp, factor, coefficients
):
    # Coefficients (a_w, b_w, a_h, b_h): the map is f_h(y) * f_w(x).
    a_w, b_w, a_h, b_h = coefficients[0]
    got = render(emp, [coefficients], 4, 6)[0, 0]
    expected = np.outer(factor(4, a_h, b_h), factor(6, a_w, b_w))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("emp", [bilinear_emp, sine_emp])
def test_zero_p_gives_the_identity(emp):
    # P = 0 -> coefficients tanh(0) / 2 + 1 = 1.
    got = render(emp, np.ones((2, 3, 4)), 9, 4)
    np.testing.assert_allclose(got, np.ones((2, 3, 9, 4)), atol=1e-6)


def test_zero_p_gaussian_is_a_centred_bump_of_mean_one():
    got = render(gaussian_emp, np.ones((1, 1, 4)), 32, 32)[0, 0]
    assert abs(got.mean() - 1.0) < 1e-3
    np.testing.assert_allclose(
        [got.min(), got.max()], [0.874, 1.078], atol=1e-3
    )
    assert np.unravel_index(got.argmax(), got.shape) in {
        (i, j) for i in (15, 16) for j in (15, 16)
    }


@pytest.mark.parametrize("edge", [0.5 + 1e-3, 1.5 - 1e-3])
def test_gaussian_bump_reaches_every_side(edge):
    # The centre spans the whole map: at the ends of the coefficient range
    # the narrowest bump peaks on the first / last pixel, with contrast.
    coefficients = np.array([[[edge, 0.5 + 1e-3, edge, 0.5 + 1e-3]]])
    got = render(gaussian_emp, coefficients, 16, 16)[0, 0]
    corner = (0, 0) if edge < 1 else (15, 15)
    assert np.unravel_index(got.argmax(), got.shape) == corner
    assert got.max() / got.min() > 3.0


def test_sine_expresses_one_and_two_full_periods():
    # c_v = 1.25 gives one period across the map, c_v -> 1.5 two: the
    # factor then averages exactly 1 over the map whatever the phase.
    for c_v, periods in ((1.25, 1), (1.5, 2)):
        for c_phi in (0.6, 1.0, 1.3):
            row = render(sine_emp, [[[c_v, c_phi, 1.0, 1.0]]], 1, 64)[0, 0, 0]
            assert abs(row.mean() - 1.0) < 1e-5
            assert row.max() > 1.49 and row.min() < 0.51
            peaks = np.sum((row[1:-1] > row[:-2]) & (row[1:-1] >= row[2:]))
            assert peaks in (periods, periods + 1)


def test_sine_reaches_every_phase_through_the_sign_of_v():
    # sin(v t + phi') with phi' outside (-pi/2, pi/2) equals
    # sin(-v t + pi - phi'), which the coefficient range covers.
    target = (
        np.sin(2 * np.pi * ((np.arange(10) + 0.5) / 10 - 0.5) + 2.5) / 2 + 1
    )
    c_v = 1 - 2 * np.pi / (8 * np.pi)  # v = -2 pi
    c_phi = 1 + (np.pi - 2.5) / np.pi  # phi = pi - 2.5
    got = render(sine_emp, [[[c_v, c_phi, 1.0, 1.0]]], 1, 10)[0, 0, 0]
    np.testing.assert_allclose(got, target, atol=1e-5)


@pytest.mark.parametrize("name", sorted(EMPS))
def test_positive_for_the_block_range(name):
    # The block feeds tanh(P) / 2 + 1, always inside (0.5, 1.5).
    p = np.random.default_rng(1).uniform(0.5, 1.5, size=(4, 8, 4))
    got = render(EMPS[name], p, 11, 13)
    assert got.shape == (4, 8, 11, 13)
    assert np.all(got > 0) and np.all(np.isfinite(got))


@pytest.mark.parametrize("emp", sorted(EMPS))
def test_maps_stay_within_their_documented_range(emp):
    # Coefficients over the whole range (0.5, 1.5), extremes included, on
    # maps from 1x1 to 31x31: every value within EMP_RANGES.
    low, high = EMP_RANGES[emp]
    rng = np.random.default_rng(0)
    edges = np.array([0.5 + 1e-6, 1.5 - 1e-6])
    extreme = np.stack(np.meshgrid(*[edges] * 4), -1).reshape(1, -1, 4)
    for size in (1, 2, 7, 31):
        random = rng.uniform(0.5, 1.5, size=(1, 256, 4))
        for coefficients in (extreme, random):
            maps = render(EMPS[emp], coefficients, size, size)
            assert maps.min() > low - 1e-6 and maps.max() < high + 1e-5


def test_the_gaussian_reaches_its_documented_top_and_p_minus_1():
    # The narrowest bump (its width coefficient near 0.5) centred on a
    # pixel centre of a 4x4 map (u = 0.625: c_mu = 1.125) nearly reaches
    # the top; P = -1 (c = tanh(-1) / 2 + 1) gives 3.03.
    narrow = np.array([[[1.125, 0.5 + 1e-6, 1.125, 0.5 + 1e-6]]])
    top = render(gaussian_emp, narrow, 4, 4).max()
    assert EMP_RANGES["gaussian"][1] - 1e-3 < top <= EMP_RANGES["gaussian"][1]
    assert top > 2 * EMP_RANGES["sine"][1] - 0.1
    c = np.tanh(-1.0) / 2 + 1
    centred = np.array([[[1.125, c, 1.125, c]]])
    np.testing.assert_allclose(
        render(gaussian_emp, centred, 4, 4).max(), 3.03, atol=0.01
    )
