"""C3's neighbour affinity with its gradient written out.

    a_ij = softmax_j(excluded_ij - (v_i - v_j)^2)

Automatic differentiation chains through the difference, the square and
the subtraction of the (batch, C, C) scores; the written-out backward pass
keeps only the affinity and reads the score gradient twice. On small maps
with many channels (C3 on ResNet-50's last stage at 32 x 32 input: 1024 x
1024 affinities per image) these passes are the block's cost.
"""

import keras
from keras import ops

from keras_chattn.layers._kernels.choice import forced_direct

# Where the written-out gradient runs (PyTorch differentiates the direct
# form itself: its custom gradients take another shape).
WRITTEN_OUT_BACKENDS = ("tensorflow", "jax")


def neighbour_affinity(means, excluded):
    """The affinity of `means` (batch, C), float32, with `excluded` (C, C)
    added to the scores: the written-out gradient on TensorFlow and JAX,
    automatic differentiation elsewhere and inside `direct_forms()`."""
    if forced_direct() or keras.backend.backend() not in WRITTEN_OUT_BACKENDS:
        return affinity(means, excluded)
    return _affinity_written_out(means, excluded)


def affinity(means, excluded):
    """The direct form: a_ij = softmax_j(excluded_ij - (v_i - v_j)^2)."""
    difference = ops.expand_dims(means, -1) - ops.expand_dims(means, -2)
    return ops.softmax(excluded - ops.square(difference), axis=-1)


@ops.custom_gradient
def _affinity_written_out(means, excluded):
    """`affinity` with its gradient written out.

    With s_ij = -(v_i - v_j)^2, each row of the score gradient g sums to 0
    (softmax), so

        dL/dv_k = 2 (g v)_k + 2 (g^T v)_k - 2 v_k sum_i g_ik.

    `excluded` gets no gradient (a constant).
    """
    result = affinity(means, excluded)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        weighted = result * upstream
        scores = weighted - result * ops.sum(weighted, -1, keepdims=True)
        # One pass over the scores' gradient for (g^T v) and its column
        # sums, one for (g v).
        stacked = ops.stack([means, ops.ones_like(means)], axis=-1)
        columns = ops.matmul(ops.swapaxes(scores, -1, -2), stacked)
        rows = ops.matmul(scores, ops.expand_dims(means, -1))[..., 0]
        d_means = 2.0 * (rows + columns[..., 0] - means * columns[..., 1])
        return d_means, ops.zeros_like(excluded)

    return result, grad
