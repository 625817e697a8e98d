"""NumPy references of the blocks' maths, written from the papers' equations.

Everything here is channels_last `(batch, height, width, channels)` float64.
"""

import numpy as np


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
    return x * sigmoid(logits)[:, None, None, :]


def spatial_attention(x, kernel, bn=None, epsilon=1e-5):
    """CBAM Eq. 3 with the official [max; mean] order and inference BN."""
    descriptor = np.concatenate(
        [x.max(axis=-1, keepdims=True), x.mean(axis=-1, keepdims=True)], -1
    )
    logits = conv2d_same(descriptor, kernel)
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
    batch, height, width, channels = x.shape
    rows = x.transpose(0, 3, 1, 2).reshape(batch, channels, height * width)
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
    decoded = rows.reshape(batch, channels, height, width).transpose(0, 2, 3, 1)
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
