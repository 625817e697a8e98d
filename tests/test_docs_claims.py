"""Figures that README and docs state, checked against the code."""

import pathlib
import re

import keras
import numpy as np

import keras_chattn
from tests.harness import count

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_lists_every_registered_block():
    line = re.search(
        r"sorted\(keras_chattn\.ATTENTION_LAYERS\)\s+# (.*)", README
    )
    assert line, "README no longer shows sorted(ATTENTION_LAYERS)"
    assert line.group(1) == str(sorted(keras_chattn.ATTENTION_LAYERS))


def test_readme_cbam_resnet50_sizes():
    claim = re.search(
        r"# CBAM-ResNet-50: ([\d,]+) trainable weights; ([\d,]+) \(the "
        r"paper's\n# 28\.09M\) with conv_bias=False",
        README,
    )
    assert claim, "README no longer states the CBAM-ResNet-50 sizes"
    default, paper = (int(g.replace(",", "")) for g in claim.groups())
    model = keras_chattn.models.ResNet50(attention="cbam")
    assert count(model.trainable_weights) == default
    # conv_bias=False drops one bias per convolution: 53 convolutions.
    biases = sum(
        layer.filters
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.use_bias
    )
    assert default - biases == paper
    assert round(paper / 1e6, 2) == 28.09


def test_float16_mean_that_the_docs_rely_on():
    # docs/layers.md: keras.ops.mean is right in float16 over a 256x256 map
    # (a float16 tf.reduce_mean is not on TF 2.21's CPU kernels).
    ones = keras.ops.ones((1, 256, 256, 4), dtype="float16")
    mean = keras.ops.convert_to_numpy(keras.ops.mean(ones, axis=(1, 2)))
    np.testing.assert_array_equal(mean, np.ones((1, 4), "float16"))


def test_resnet1d_size_in_docs():
    models_doc = (ROOT / "docs" / "models.md").read_text()
    claim = re.search(r"\(([\d,]+) parameters for GunPoint", models_doc)
    assert claim, "docs/models.md no longer states resnet1d's size"
    model = keras_chattn.models.resnet1d(input_shape=(150, 1), classes=2)
    assert model.count_params() == int(claim.group(1).replace(",", ""))
