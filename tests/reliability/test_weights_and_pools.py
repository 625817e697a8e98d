"""Weights of another architecture are refused; every pool stays finite."""

import warnings

import keras
import numpy as np
import pytest

from keras_chattn import layers
from keras_chattn import models
from tests.harness import gradients


@pytest.fixture(scope="module")
def se_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "se.weights.h5"
    models.cifar_resnet(20, attention="se").save_weights(path)
    return path


def test_weights_of_another_architecture_are_refused(se_weights):
    # They used to load silently: SE weights dropped, predictions off by 0.7.
    with pytest.raises(ValueError, match=r"another architecture.*squeeze_exc"):
        models.cifar_resnet(20, weights=str(se_weights))


def test_weights_missing_from_the_file_are_named(se_weights):
    with pytest.raises(ValueError, match=r"only in the model: .*CBAM"):
        models.cifar_resnet(20, attention="cbam", weights=str(se_weights))


def test_partial_load_is_explicit_and_listed(se_weights):
    source = models.cifar_resnet(20, attention="se")
    source.load_weights(se_weights)
    plain = models.cifar_resnet(20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models.load_weights_file(plain, se_weights, partial=True)
    assert any("partially" in str(w.message) for w in caught)
    np.testing.assert_array_equal(
        plain.get_layer("conv3_block2_1_conv").get_weights()[0],
        source.get_layer("conv3_block2_1_conv").get_weights()[0],
    )


def test_matching_weights_load(se_weights):
    model = models.cifar_resnet(20, attention="se", weights=str(se_weights))
    assert (
        model.count_params()
        == models.cifar_resnet(20, attention="se").count_params()
    )


ALL_POOLS = ("avg", "max", "lse", "lp")


@pytest.mark.parametrize(
    "policy", ["float32", "mixed_float16", "mixed_bfloat16"]
)
def test_pools_finite_on_a_zero_channel(policy):
    # One all-zero channel made the lp pool's input gradient NaN (sqrt's
    # slope at 0).
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        layer = layers.ChannelAttention(reduction=2, pool_types=ALL_POOLS)
        x = (
            np.random.default_rng(0)
            .uniform(0, 1, (2, 8, 8, 4))
            .astype("float32")
        )
        x[..., 0] = 0.0
        layer.build(x.shape)
        for grad in gradients(layer, [x]):
            assert np.all(np.isfinite(grad))
    finally:
        keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_lp_pool_does_not_overflow_float16(seed):
    # sqrt(128 * 128) * 1e3 = 1.28e5 > 65504: inf, then NaN in the gate.
    # Saturating the pool at 65504 was not enough: the shared MLP's sums of
    # such descriptors overflowed too, with some weights (NaN gradients at
    # seed 0 once the initial weights changed); the MLP now runs in float32.
    keras.utils.set_random_seed(seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = layers.CBAM(reduction=2, pool_types=ALL_POOLS)
        x = np.full((1, 128, 128, 4), 1e3, "float32")
        y = keras.ops.convert_to_numpy(keras.ops.cast(layer(x), "float32"))
        assert np.all(np.isfinite(y))
        for grad in gradients(layer, [x]):
            assert np.all(np.isfinite(grad))
    finally:
        keras.config.set_dtype_policy(previous)
