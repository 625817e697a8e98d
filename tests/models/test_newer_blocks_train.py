"""The newer blocks train a CIFAR ResNet-20 on real images.

A few steps of Adam on the shared CIFAR-10 images under float32 and
mixed_bfloat16: the loss stays finite and falls. Slow: CI runs them
under mixed_bfloat16 (`-m "slow and not release"`); the float32 runs are
`-m release`, run by hand (the layer contract trains every block under
float32 in the default run).
"""

import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.data import load_cifar_arrays
from tests.data.shared import DATA
from tests.data.shared import needs_data

NEWER = ["eca", "coord", "gc", "sk", "triplet", "bam", "simam", "danet"]
NEWEST = ["ese", "ge", "ela", "nl", "scse", "gct", "fca", "sge", "splat"]


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize(
    "policy",
    [pytest.param("float32", marks=pytest.mark.release), "mixed_bfloat16"],
)
@pytest.mark.parametrize("block", NEWER + NEWEST)
def test_cifar_resnet20_trains_on_real_images(block, policy):
    x, y = load_cifar_arrays(data_dir=DATA, limit=256, normalized=True)
    keras.config.set_dtype_policy(policy)
    keras.utils.set_random_seed(0)
    model = models.cifar_resnet(20, attention=block, classifier_activation=None)
    model.compile(
        keras.optimizers.Adam(1e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    losses = model.fit(x, y, batch_size=32, epochs=2, verbose=0).history["loss"]
    assert all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
