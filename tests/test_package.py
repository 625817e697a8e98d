import re

import keras_chattn
from keras_chattn import layers


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", keras_chattn.__version__)


def test_public_names():
    for name in (
        "SqueezeExcite",
        "CBAM",
        "ChannelAttention",
        "SpatialAttention",
    ):
        assert getattr(keras_chattn, name) is getattr(layers, name)
    assert keras_chattn.ATTENTION_LAYERS is layers.registry.ATTENTION_LAYERS
    assert keras_chattn.get_attention is layers.registry.get_attention
    assert keras_chattn.create_attention is layers.registry.create_attention
    for name in keras_chattn.__all__:
        assert hasattr(keras_chattn, name)


def test_layers_import_no_tensorflow_names():
    # STYLE habit 5: layers use keras.ops only, so they run on every backend.
    import pathlib

    for path in pathlib.Path(layers.__file__).parent.glob("*.py"):
        source = path.read_text()
        for forbidden in ("import tensorflow", "import jax", "import torch"):
            assert forbidden not in source, f"{path.name}: {forbidden}"
