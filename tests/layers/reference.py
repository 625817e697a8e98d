"""NumPy references of the blocks' maths, written from the papers' equations.

Everything here is channels_last float64: `(batch, height, width, channels)`
for images; the blocks that take sequences `(batch, length, channels)` and
volumes `(batch, depth, height, width, channels)` have references written
for any number of spatial axes (`spatial(x)` is the tuple of them).
"""

import itertools

import numpy as np


def spatial(x):
    """The spatial axes of a channels_last map."""
    return tuple(range(1, x.ndim - 1))


def over_space(vector, ndim):
    """(batch, C) -> (batch, 1, ..., 1, C), broadcasting over a map."""
    return vector.reshape(vector.shape[0], *[1] * (ndim - 2), -1)


def conv_same(x, kernel, bias=None, dilation=1):
    """A stride-1 'same' (pad = dilation * (k // 2)) dilated
    cross-correlation on any number of spatial axes; `kernel` is
    (k, ..., k, C_in, C_out)."""
    k = kernel.shape[0]
    dims = x.ndim - 2
    pad = dilation * (k // 2)
    padded = np.pad(x, ((0, 0), *[(pad, pad)] * dims, (0, 0)))
    sizes = x.shape[1:-1]
    out = np.zeros((*x.shape[:-1], kernel.shape[-1]))
    for offsets in itertools.product(range(k), repeat=dims):
        window = tuple(
            slice(o * dilation, o * dilation + n)
            for o, n in zip(offsets, sizes, strict=True)
        )
        out += padded[(slice(None), *window)] @ kernel[offsets]
    return out if bias is None else out + bias


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def mlp(descriptor, w1, b1, w2, b2):
    """Dense -> ReLU -> Dense on `(batch, C)` descriptors."""
    return relu(descriptor @ w1 + b1) @ w2 + b2


def global_pool(x, pool_type):
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    if pool_type == "avg":
        return flat.mean(axis=1)
    if pool_type == "max":
        return flat.max(axis=1)
    if pool_type == "lse":
        peak = flat.max(axis=1, keepdims=True)
        return peak[:, 0] + np.log(np.exp(flat - peak).sum(axis=1))
    if pool_type == "lp":
        return np.sqrt((flat**2).sum(axis=1))
    raise ValueError(pool_type)


def conv2d_same(x, kernel):
    """Stride-1 'same' convolution (cross-correlation), odd kernel, no bias."""
    k = kernel.shape[0]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    batch, height, width, _ = x.shape
    out = np.zeros((batch, height, width, kernel.shape[-1]))
    for i in range(k):
        for j in range(k):
            patch = padded[:, i : i + height, j : j + width, :]
            out += patch @ kernel[i, j]
    return out


def channel_attention(x, weights, pool_types):
    """CBAM Eq. 2 (and SE with pool_types=('avg',))."""
    logits = sum(mlp(global_pool(x, p), *weights) for p in pool_types)
    return x * over_space(sigmoid(logits), x.ndim)


def spatial_attention(x, kernel, bn=None, epsilon=1e-5):
    """CBAM Eq. 3 with the official [max; mean] order and inference BN."""
    descriptor = np.concatenate(
        [x.max(axis=-1, keepdims=True), x.mean(axis=-1, keepdims=True)], -1
    )
    logits = conv_same(descriptor, kernel)
    if bn is not None:
        gamma, beta, mean, variance = bn
        logits = (logits - mean) / np.sqrt(variance + epsilon) * gamma + beta
    return x * sigmoid(logits)


def cross_channel_comm(
    x,
    dense,
    include_self=False,
    communication=True,
    encoder_decoder=True,
    groups=1,
):
    """C3 steps 1-6 at the input's own size, ReLU bottlenecks and output.

    `dense` holds (kernel, bias) pairs: encoder in/out, decoder in/out.
    `groups` splits the channels into that many runs of consecutive
    channels, each with its own softmax (the reference code's
    `nblocks_channel`).
    """
    batch, channels = x.shape[0], x.shape[-1]
    sizes = x.shape[1:-1]
    rows = np.moveaxis(x, -1, 1).reshape(batch, channels, -1)
    (k1, b1), (k2, b2), (k3, b3), (k4, b4) = dense or [(None, None)] * 4
    if encoder_decoder:
        rows = relu(rows @ k1 + b1) @ k2 + b2
    if communication:
        means = rows.mean(axis=-1)
        scores = -((means[:, :, None] - means[:, None, :]) ** 2)
        group = np.arange(channels) // (channels // groups)
        hears = group[:, None] == group[None, :]
        if not include_self:
            hears = hears & ~np.eye(channels, dtype=bool)
        scores = np.where(hears, scores, -np.inf)
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights = weights / weights.sum(axis=-1, keepdims=True)
        rows = weights @ rows
    if encoder_decoder:
        rows = relu(rows @ k3 + b3) @ k4 + b4
    decoded = np.moveaxis(rows.reshape(batch, channels, *sizes), 1, -1)
    return relu(x + decoded)


def conv2d(x, kernel, bias=None, dilation=1, groups=1, stride=1):
    """A 'same'-padded (pad = dilation * (k // 2)) grouped, dilated,
    strided cross-correlation; `kernel` is (k, k, C_in / groups, C_out)."""
    k = kernel.shape[0]
    pad = dilation * (k // 2)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    batch, height, width, channels = x.shape
    out_channels = kernel.shape[-1]
    per_in, per_out = channels // groups, out_channels // groups
    out = np.zeros((batch, height, width, out_channels))
    for i in range(k):
        for j in range(k):
            patch = padded[
                :, i * dilation : i * dilation + height,
                j * dilation : j * dilation + width,
            ]  # fmt: skip
            for g in range(groups):
                out[..., g * per_out : (g + 1) * per_out] += (
                    patch[..., g * per_in : (g + 1) * per_in]
                    @ kernel[i, j, :, g * per_out : (g + 1) * per_out]
                )
    if bias is not None:
        out = out + bias
    return out[:, ::stride, ::stride]


def batchnorm(x, gamma, beta, mean, variance, epsilon):
    """BatchNorm at inference over the last axis."""
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


def softmax(x, axis=-1):
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def simam(x, e_lambda):
    """SimAM, the paper's Eq. 5 / Algorithm 1, n = (positions) - 1."""
    axes = spatial(x)
    n = int(np.prod([x.shape[a] for a in axes])) - 1
    d = (x - x.mean(axis=axes, keepdims=True)) ** 2
    v = d.sum(axis=axes, keepdims=True) / n
    return x * sigmoid(d / (4 * (v + e_lambda)) + 0.5)


def layer_norm(x, gamma, beta, epsilon=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def global_context(x, mask, transforms):
    """GC: context = sum softmax(W_k x) x; y = x * sigmoid(t_mul) + t_add."""
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    if mask is None:
        context = flat.mean(axis=1)
    else:
        weights = softmax((flat @ mask[0] + mask[1])[..., 0], axis=1)
        context = (flat * weights[..., None]).sum(axis=1)
    y = x
    for kind, (w1, b1, gamma, beta, w2, b2) in transforms:
        term = relu(layer_norm(context @ w1 + b1, gamma, beta)) @ w2 + b2
        term = over_space(term, x.ndim)
        y = y * sigmoid(term) if kind == "multiply" else y + term
    return y


def gc_transforms(layer, w):
    """`global_context`'s transforms from a layer's weights by path."""
    parts = ("reduce/kernel", "reduce/bias", "norm/gamma", "norm/beta",
             "expand/kernel", "expand/bias")  # fmt: skip
    return [(kind, [w[f"{kind}_{p}"] for p in parts]) for kind in layer.kinds()]


def bam(x, w, combine, dilation, convs, epsilon=1e-5):
    """BAM (the code's multiply or the paper's add), inference BatchNorm."""

    def bn(name, value):
        stats = [
            w[f"{name}/{p}"]
            for p in ("gamma", "beta", "moving_mean", "moving_variance")
        ]
        return batchnorm(value, *stats, epsilon)

    pooled = x.mean(axis=spatial(x))
    hidden = relu(
        bn("channel_bn", pooled @ w["channel_fc/kernel"] + w["channel_fc/bias"])
    )
    channel = over_space(
        hidden @ w["channel_out/kernel"] + w["channel_out/bias"], x.ndim
    )
    y = relu(
        bn(
            "spatial_bn0",
            x @ w["spatial_reduce/kernel"] + w["spatial_reduce/bias"],
        )
    )
    for index in range(convs):
        y = conv_same(
            y,
            w[f"spatial_dilated{index}/kernel"],
            w[f"spatial_dilated{index}/bias"],
            dilation=dilation,
        )
        y = relu(bn(f"spatial_bn{index + 1}", y))
    spatial_map = y @ w["spatial_out/kernel"] + w["spatial_out/bias"]
    joint = (
        channel * spatial_map if combine == "multiply"
        else channel + spatial_map
    )  # fmt: skip
    return x * (1 + sigmoid(joint))


def dual_attention(x, w, channel_energy, fusion):
    """DANet's position and channel attention on the flattened positions."""
    batch, channels = x.shape[0], x.shape[-1]
    flat = x.reshape(batch, -1, channels)  # (batch, N, C)
    q = flat @ w["query/kernel"] + w["query/bias"]
    k = flat @ w["key/kernel"] + w["key/bias"]
    v = flat @ w["value/kernel"] + w["value/bias"]
    s = softmax(q @ k.transpose(0, 2, 1), axis=-1)  # (N, N)
    position = w["alpha"] * (s @ v) + flat
    energy = flat.transpose(0, 2, 1) @ flat  # (C, C)
    if channel_energy == "code":
        energy = energy.max(axis=-1, keepdims=True) - energy
    a = softmax(energy, axis=-1)
    channel = w["beta"] * (flat @ a.transpose(0, 2, 1)) + flat
    y = position + channel
    return (y / 2 if fusion == "mean" else y).reshape(x.shape)


def danet_head(x, w, channel_energy, fusion, epsilon=1e-5):
    """The authors' DANetHead: each module between 3x3 conv-BN-ReLU pairs
    (convolutions without bias, BatchNorm in inference mode)."""

    def cbr(name, value):
        y = conv_same(value, w[f"{name}_conv/kernel"])
        y = batchnorm(
            y,
            *(w[f"{name}_bn/{p}"] for p in ("gamma", "beta")),
            *(w[f"{name}_bn/{p}"] for p in ("moving_mean", "moving_variance")),
            epsilon,
        )
        return relu(y)

    feat = cbr("position_in", x)
    batch, channels = feat.shape[0], feat.shape[-1]
    flat = feat.reshape(batch, -1, channels)
    q = flat @ w["query/kernel"] + w["query/bias"]
    k = flat @ w["key/kernel"] + w["key/bias"]
    v = flat @ w["value/kernel"] + w["value/bias"]
    s = softmax(q @ k.transpose(0, 2, 1), axis=-1)
    position = (w["alpha"] * (s @ v) + flat).reshape(feat.shape)
    position = cbr("position_out", position)

    feat = cbr("channel_in", x)
    flat = feat.reshape(batch, -1, channels)
    energy = flat.transpose(0, 2, 1) @ flat
    if channel_energy == "code":
        energy = energy.max(axis=-1, keepdims=True) - energy
    a = softmax(energy, axis=-1)
    channel = (w["beta"] * (flat @ a.transpose(0, 2, 1)) + flat).reshape(
        feat.shape
    )
    channel = cbr("channel_out", channel)
    y = position + channel
    return y / 2 if fusion == "mean" else y


def eca(x, kernel):
    """y = x * sigmoid(conv1d(mean over positions)), 'same', no bias."""
    pooled = x.mean(axis=spatial(x))  # (batch, C)
    k = kernel.shape[0]
    padded = np.pad(pooled, ((0, 0), (k // 2, k // 2)))
    logits = sum(
        kernel[i] * padded[:, i : i + pooled.shape[1]] for i in range(k)
    )
    return x * over_space(sigmoid(logits), x.ndim)


def weights_by_path(layer):
    """A layer's weights as float64 arrays, keyed by path below the layer."""
    return {
        v.path.split("/", 1)[1]: np.asarray(v, "float64") for v in layer.weights
    }


def nearest_resize(x, size):
    """Nearest-neighbour resize of every spatial axis, half-pixel centres
    (index floor((i + 0.5) * n / m))."""
    for axis, m in zip(spatial(x), size, strict=True):
        n = x.shape[axis]
        index = np.minimum(np.floor((np.arange(m) + 0.5) * n / m), n - 1)
        x = np.take(x, index.astype(int), axis=axis)
    return x


def emp_factor(emp, size, first, second):
    """One axis' factor of an excitation map, as the module docstring of
    keras_chattn.layers.excitation_maps defines it; (batch, C) coefficient
    pairs -> (batch, C, size)."""
    first, second = first[..., None], second[..., None]
    x = np.arange(size, dtype="float64")
    if emp == "bilinear":
        return first * (size - x) / size + second * x / size
    u = (x + 0.5) / size
    if emp == "gaussian":
        mu = first - 0.5
        sigma = 0.7413011092528009 * 3.0 ** (2 * (second - 1))
        density = np.exp(-((u - mu) ** 2) / (2 * sigma**2))
        return density / (sigma * np.sqrt(2 * np.pi)) + 0.5
    frequency, phase = 8 * np.pi * (first - 1), np.pi * (second - 1)
    return np.sin(frequency * (u - 0.5) + phase) / 2 + 1


def excitation_map(emp, coefficients, sizes):
    """The product of one factor per axis; coefficient pairs listed from
    the last axis to the first. (batch, C, 2 * dims) -> (batch, C, *sizes)."""
    dims = len(sizes)
    result = np.ones((*coefficients.shape[:2], *sizes))
    for axis, size in enumerate(sizes):
        pair = 2 * (dims - 1 - axis)
        factor = emp_factor(
            emp, size, coefficients[..., pair], coefficients[..., pair + 1]
        )
        shape = [1] * dims
        shape[axis] = size
        result = result * factor.reshape(*coefficients.shape[:2], *shape)
    return result


def contextual_conv_reduced(x, kernel, bias, context, emp="bilinear"):
    """CC-block-Reduced on any rank: (output, coefficients)."""
    small = nearest_resize(x, context)
    rows = np.moveaxis(small, -1, 1).reshape(x.shape[0], x.shape[-1], -1)
    p = np.tanh(np.einsum("bcn,cnk->bck", rows, kernel) + bias) / 2 + 1
    excitation = excitation_map(emp, p, x.shape[1:-1])
    return x * np.moveaxis(excitation, 1, -1), p


def bridge_attention(maps, fusions, norms, expand_kernel, epsilon=1e-5):
    """BA-Net's gate from every map's mean, applied to the last map;
    `norms` are (gamma, beta, moving mean, moving variance)."""
    fused = 0
    for m, kernel, (gamma, beta, mean, var) in zip(
        maps, fusions, norms, strict=True
    ):
        z = m.mean(axis=spatial(m)) @ kernel
        fused = fused + (z - mean) / np.sqrt(var + epsilon) * gamma + beta
    weights = sigmoid(relu(fused) @ expand_kernel)
    return maps[-1] * over_space(weights, maps[-1].ndim)
