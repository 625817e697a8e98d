"""Excitation map producers (EMPs) of the Contextual Convolution Block.

Reference: Marwood and Baluja, "Contextual Convolution Blocks", Google
Research: Eq. 2 (bilinear) and Table 2 (2D-Gaussian, 2D-Sine). Each EMP turns
4 coefficients per channel into a smooth positive map of the full height and
width. The block feeds them `tanh(P) / 2 + 1`, so coefficients lie in
(0.5, 1.5); these functions take the coefficients as they are.

All three take `coefficients` of shape `(batch, C, 4)` and return maps of
shape `(batch, C, height, width)`; `height` and `width` may be tensors (sizes
known only at run time). Positions are x = 0 ... W - 1 and y = 0 ... H - 1;
the Gaussian and Sine EMPs use the normalised positions x / W and y / H so
that coefficients near 1 give gentle, size-independent maps.
"""

from keras import ops


def _positions(size):
    """(0, 1, ..., size - 1) and (0, 1/size, ..., (size - 1)/size)."""
    pixels = ops.cast(ops.arange(size), "float32")
    return pixels, pixels / ops.cast(size, "float32")


def _outer(along_height, along_width):
    """(batch, C, H) x (batch, C, W) -> (batch, C, H, W)."""
    return ops.expand_dims(along_height, -1) * ops.expand_dims(along_width, -2)


def _split(coefficients):
    c = ops.cast(coefficients, "float32")
    return [ops.expand_dims(c[..., i], -1) for i in range(4)]


def bilinear_emp(coefficients, height, width):
    """Eq. 2: a bilinear ramp between per-edge values.

    f_c(x, y) = (iw (W - x) / W + ew x / W) * (ih (H - y) / H + eh y / H)
    with coefficients (iw, ew, ih, eh) = (initial_w, end_w, initial_h, end_h).
    All ones give the identity map; positive coefficients give a positive map.

    Example:

    >>> import numpy as np
    >>> from keras_chattn.layers.excitation_maps import bilinear_emp
    >>> m = np.asarray(bilinear_emp(np.array([[[1.0, 2.0, 1.0, 1.0]]]), 2, 4))
    >>> m[0, 0].tolist()
    [[1.0, 1.25, 1.5, 1.75], [1.0, 1.25, 1.5, 1.75]]
    """
    initial_w, end_w, initial_h, end_h = _split(coefficients)
    x, _ = _positions(width)
    y, _ = _positions(height)
    w = ops.cast(width, "float32")
    h = ops.cast(height, "float32")
    along_width = initial_w * (w - x) / w + end_w * x / w
    along_height = initial_h * (h - y) / h + end_h * y / h
    return _outer(along_height, along_width)


def gaussian_emp(coefficients, height, width):
    """Table 2's 2D-Gaussian: (G(x; mu_w, s_w) + 0.5) (G(y; mu_h, s_h) + 0.5).

    G(u; mu, s) = exp(-(u - mu)^2 / (2 s^2)) on normalised positions
    u = x / W, with coefficients (mu_w, sigma_w, mu_h, sigma_h). Each factor
    lies in (0.5, 1.5], so the map is positive; no coefficients give the
    identity (the factor would have to be 1 everywhere).
    """
    mu_w, sigma_w, mu_h, sigma_h = _split(coefficients)
    _, u = _positions(width)
    _, v = _positions(height)

    def bump(t, mu, sigma):
        return ops.exp(-ops.square(t - mu) / (2.0 * ops.square(sigma))) + 0.5

    return _outer(bump(v, mu_h, sigma_h), bump(u, mu_w, sigma_w))


def sine_emp(coefficients, height, width):
    """Table 2's 2D-Sine: (sin(v_w x + phi_w)/2 + 1) (sin(v_h y + phi_h)/2 + 1).

    On normalised positions x / W, y / H, with coefficients
    (v_w, phi_w, v_h, phi_h). Each factor lies in [0.5, 1.5], so the map is
    positive; zero frequencies and phases give the identity.
    """
    freq_w, phase_w, freq_h, phase_h = _split(coefficients)
    _, u = _positions(width)
    _, v = _positions(height)
    along_width = ops.sin(freq_w * u + phase_w) / 2.0 + 1.0
    along_height = ops.sin(freq_h * v + phase_h) / 2.0 + 1.0
    return _outer(along_height, along_width)


EMPS = {"bilinear": bilinear_emp, "gaussian": gaussian_emp, "sine": sine_emp}
