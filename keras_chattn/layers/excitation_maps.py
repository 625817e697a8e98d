"""Excitation map producers (EMPs) of the Contextual Convolution Block.

Reference: Marwood and Baluja, "Contextual Convolution Blocks", Google
Research: Eq. 2 (bilinear) and Table 2 (2D-Gaussian, 2D-Sine). Each EMP turns
4 coefficients per channel into a smooth positive map of the full height and
width. The block feeds them `c = tanh(P) / 2 + 1`, so coefficients lie in
(0.5, 1.5) and P = 0 gives c = 1; these functions take c as it is.

All three take `coefficients` of shape `(batch, C, 4)` and return maps of
shape `(batch, C, height, width)`; `height` and `width` may be tensors (sizes
known only at run time). Each map is a product of a factor along the width
and a factor along the height, with the formulas of Eq. 2 and Table 2
unchanged. Where the paper leaves open the scale of the positions and of
the coefficients (Table 2 does not say whether x is in pixels, how an offset
coefficient in (0.5, 1.5) becomes a centre, a width, a frequency or a phase,
nor whether G is normalised), this module reads them so that each EMP can
express what it is for and a fresh block (P near 0) keeps activations at
their scale:

- bilinear (Eq. 2 as printed): x = 0 ... W - 1 in pixels, divided by W.
  P = 0 gives the identity (1 everywhere).
- 2D-Gaussian: positions at pixel centres scaled to (0, 1),
  u = (x + 0.5) / W; centre mu = c - 0.5, anywhere in (0, 1); width
  sigma = GAUSSIAN_SIGMA_AT_ZERO * GAUSSIAN_SIGMA_RANGE ** (2 (c - 1)), in
  (0.247, 2.224); G is the normalised Gaussian density (area 1 over the
  line). P = 0 gives a centred bump of width 0.741: each factor
  0.5 + G runs from 0.93 at the borders to 1.04 in the middle, the map from
  0.86 at the corners to 1.08 at the centre, with mean 1.00 (exactly 1 on
  continuous positions; 1.001 on 8x8, 1.004 on 4x4). It cannot give the
  identity: 0.5 + G would have to be 1 everywhere.
- 2D-Sine: centred positions t = (x + 0.5) / W - 0.5 in (-0.5, 0.5);
  frequency v = 8 pi (c - 1) in (-4 pi, 4 pi) radians per map side (up to
  two full periods across the map, one at c = 1.25); phase
  phi = pi (c - 1) in (-pi / 2, pi / 2), which with the sign of v reaches
  every phase (sin(v t + phi') = sin(-v t + pi - phi')).
  P = 0 gives v = 0, phi = 0: the identity.

docs/layers.md gives the measurements behind this choice.

What each map can multiply an activation by (`EMP_RANGES`, over the whole
coefficient range (0.5, 1.5), every size): bilinear and sine factors lie
in [0.5, 1.5], so their maps in [0.25, 2.25]; a Gaussian factor
0.5 + G lies in (0.5, 0.5 + 1 / (sigma_min sqrt(2 pi))) = (0.5, 2.114),
so its map in (0.25, 4.471). The top is reached only by the narrowest
bump (sigma -> 0.247, its coefficient -> 0.5, i.e. P -> -inf) centred on
a pixel; P = -1 gives up to 3.03. We keep that reach rather than bound it
to the others' 2.25: that would need sigma >= 0.399, a bump no narrower
than two fifths of the map, and would change every trained Gaussian
block's outputs.

Other ranks (`render_emp`): every EMP is a product of one factor per
spatial axis, each factor with its own pair of coefficients, so the same
factors define it on a sequence (one factor, 2 coefficients per channel)
and on a volume (three factors, 6 coefficients). Pairs are listed from the
last spatial axis to the first, as the 2-D coefficients are (width pair,
then height pair): a 1-D map takes (initial, end) of its length; a 3-D map
(width pair, height pair, depth pair).
"""

import math

from keras import ops

# The Gaussian's width at P = 0: the sigma for which the mean of the
# normalised density centred on (0, 1) is 1/2 there, so that each factor
# 0.5 + G averages 1, i.e. 1 / (2 sqrt(2) erfinv(1/2)).
GAUSSIAN_SIGMA_AT_ZERO = 0.7413011092528009
# sigma spans GAUSSIAN_SIGMA_AT_ZERO / 3 ... * 3 over the coefficient range.
GAUSSIAN_SIGMA_RANGE = 3.0
# The sine's frequency reaches this many full periods across the map at the
# ends of the coefficient range.
SINE_MAX_PERIODS = 2.0
# The largest Gaussian factor, 0.5 + G at the narrowest width's peak.
GAUSSIAN_FACTOR_MAX = 0.5 + GAUSSIAN_SIGMA_RANGE / (
    GAUSSIAN_SIGMA_AT_ZERO * math.sqrt(2.0 * math.pi)
)
# (lower, upper) bounds of each 2-D map over the coefficient range (see
# the module docstring); a map on n axes lies within their n/2-th powers.
EMP_RANGES = {
    "bilinear": (0.25, 2.25),
    "gaussian": (0.25, GAUSSIAN_FACTOR_MAX**2),
    "sine": (0.25, 2.25),
}


def _pixels(size):
    """(0, 1, ..., size - 1) as float32."""
    return ops.cast(ops.arange(size), "float32")


def _pixel_centres(size):
    """((0.5, 1.5, ..., size - 0.5) / size): pixel centres in (0, 1)."""
    return (_pixels(size) + 0.5) / ops.cast(size, "float32")


def _split(coefficients):
    c = ops.cast(coefficients, "float32")
    return [ops.expand_dims(c[..., i], -1) for i in range(c.shape[-1])]


def bilinear_factor(size, initial, end):
    """initial (S - x) / S + end x / S on x = 0 ... S - 1 (Eq. 2's ramp)."""
    x = _pixels(size)
    s = ops.cast(size, "float32")
    return initial * (s - x) / s + end * x / s


def bilinear_emp(coefficients, height, width):
    """Eq. 2: a bilinear ramp between per-edge values.

    f_c(x, y) = (iw (W - x) / W + ew x / W) * (ih (H - y) / H + eh y / H)
    with coefficients (iw, ew, ih, eh) = (initial_w, end_w, initial_h, end_h)
    and x = 0 ... W - 1, y = 0 ... H - 1. All ones (P = 0) give the
    identity map; positive coefficients give a positive map.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.layers.excitation_maps import bilinear_emp
        >>> coefficients = np.array([[[1.0, 2.0, 1.0, 1.0]]])
        >>> m = np.asarray(bilinear_emp(coefficients, 2, 4))
        >>> m[0, 0].tolist()
        [[1.0, 1.25, 1.5, 1.75], [1.0, 1.25, 1.5, 1.75]]
    """
    return render_emp("bilinear", coefficients, (height, width))


def gaussian_parameters(coefficient_mu, coefficient_sigma):
    """(mu, sigma) on (0, 1) positions from coefficients in (0.5, 1.5)."""
    mu = coefficient_mu - 0.5
    sigma = GAUSSIAN_SIGMA_AT_ZERO * ops.power(
        GAUSSIAN_SIGMA_RANGE, 2.0 * (coefficient_sigma - 1.0)
    )
    return mu, sigma


def gaussian_emp(coefficients, height, width):
    """Table 2's 2D-Gaussian: (G(x|mu_w, s_w) + 0.5) (G(y|mu_h, s_h) + 0.5).

    G(u|mu, s) = exp(-(u - mu)^2 / (2 s^2)) / (s sqrt(2 pi)) on pixel
    centres u = (x + 0.5) / W in (0, 1), with mu = c_mu - 0.5 and
    sigma = 0.741 * 3 ** (2 (c_sigma - 1)) from the coefficients
    (c_mu_w, c_sigma_w, c_mu_h, c_sigma_h) (see the module docstring). The
    map is positive. Coefficients of 1 (P = 0) give a centred bump with
    mean 1.00, from 0.86 at the corners to 1.08 at the centre: not the
    identity, which no Gaussian gives.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.layers.excitation_maps import gaussian_emp
        >>> m = np.asarray(gaussian_emp(np.ones((1, 1, 4)), 32, 32))[0, 0]
        >>> [round(float(v), 3) for v in (m.mean(), m.min(), m.max())]
        [1.0, 0.874, 1.078]
    """
    return render_emp("gaussian", coefficients, (height, width))


def gaussian_factor(size, coefficient_mu, coefficient_sigma):
    """G(u | mu, sigma) + 0.5 on pixel centres u in (0, 1)."""
    mu, sigma = gaussian_parameters(coefficient_mu, coefficient_sigma)
    u = _pixel_centres(size)
    density = ops.exp(-ops.square(u - mu) / (2.0 * ops.square(sigma)))
    return density / (sigma * math.sqrt(2.0 * math.pi)) + 0.5


def sine_parameters(coefficient_frequency, coefficient_phase):
    """(v, phi) in radians per map side from coefficients in (0.5, 1.5)."""
    frequency = 4.0 * math.pi * SINE_MAX_PERIODS * (coefficient_frequency - 1)
    phase = math.pi * (coefficient_phase - 1.0)
    return frequency, phase


def sine_emp(coefficients, height, width):
    """Table 2's 2D-Sine: (sin(v_w x + phi_w)/2 + 1) (sin(v_h y + phi_h)/2 + 1).

    On centred positions t = (x + 0.5) / W - 0.5 in (-0.5, 0.5), with
    v = 8 pi (c_v - 1) (up to two periods across the map) and
    phi = pi (c_phi - 1) from the coefficients (c_v_w, c_phi_w, c_v_h,
    c_phi_h) (see the module docstring). Each factor lies in [0.5, 1.5], so
    the map is positive. Coefficients of 1 (P = 0) give the identity.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.layers.excitation_maps import sine_emp
        >>> np.asarray(sine_emp(np.ones((1, 1, 4)), 3, 5)).tolist() == [
        ...     [np.ones((3, 5)).tolist()]
        ... ]
        True
        >>> one_period = np.array([[[1.25, 1.5, 1.0, 1.0]]])  # phase pi / 2
        >>> row = np.asarray(sine_emp(one_period, 1, 4))[0, 0, 0]
        >>> [round(float(v), 3) for v in row]
        [0.646, 1.354, 1.354, 0.646]
    """
    return render_emp("sine", coefficients, (height, width))


def sine_factor(size, coefficient_frequency, coefficient_phase):
    """sin(v t + phi) / 2 + 1 on centred positions t in (-0.5, 0.5)."""
    frequency, phase = sine_parameters(coefficient_frequency, coefficient_phase)
    t = _pixel_centres(size) - 0.5
    return ops.sin(frequency * t + phase) / 2.0 + 1.0


FACTORS = {
    "bilinear": bilinear_factor,
    "gaussian": gaussian_factor,
    "sine": sine_factor,
}


def render_emp(emp, coefficients, sizes, channels_last=False):
    """An EMP on any number of spatial axes: (batch, C, 2 * len(sizes))
    coefficients -> (batch, C, *sizes) maps, or (batch, *sizes, C) with
    `channels_last=True` (each small per-axis factor is transposed, never
    the full map).

    The product of one factor per axis; the coefficient pairs run from the
    last axis to the first (for an image: width pair, then height pair, as
    Eq. 2 and Table 2 list them). `sizes` may hold tensors.

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.layers.excitation_maps import render_emp
        >>> ramp = np.array([[[1.0, 2.0]]])  # a sequence: (initial, end)
        >>> np.asarray(render_emp("bilinear", ramp, (4,)))[0, 0].tolist()
        [1.0, 1.25, 1.5, 1.75]
        >>> volume = render_emp("sine", np.ones((1, 2, 6)), (2, 3, 4))
        >>> tuple(volume.shape), float(np.asarray(volume).min())
        ((1, 2, 2, 3, 4), 1.0)
    """
    factor = FACTORS[emp]
    values = _split(coefficients)
    dims = len(sizes)
    if len(values) != 2 * dims:
        raise ValueError(
            f"a {dims}-axis {emp} map takes {2 * dims} coefficients per "
            f"channel (a pair per axis). Received: coefficients of shape "
            f"{tuple(coefficients.shape)}"
        )
    result = None
    for index, size in enumerate(sizes):
        pair = 2 * (dims - 1 - index)  # the last axis has the first pair
        along = factor(size, values[pair], values[pair + 1])
        if channels_last:
            # (batch, C, size) -> (batch, 1, ..., size, ..., 1, C)
            along = ops.transpose(along, (0, 2, 1))
            for _ in range(index):
                along = ops.expand_dims(along, 1)
            for _ in range(dims - 1 - index):
                along = ops.expand_dims(along, -2)
        else:
            # (batch, C, size) -> (batch, C, 1, ..., size, ..., 1)
            for _ in range(dims - 1 - index):
                along = ops.expand_dims(along, -1)
            for _ in range(index):
                along = ops.expand_dims(along, 2)
        result = along if result is None else result * along
    return result


EMPS = {"bilinear": bilinear_emp, "gaussian": gaussian_emp, "sine": sine_emp}
