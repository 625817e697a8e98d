"""Small helpers shared by the model tests."""


def layer_names(model):
    """Names of every layer but the input (named by a global counter)."""
    return [layer.name for layer in model.layers[1:]]


def attention_layers(model):
    return [
        layer for layer in model.layers if layer.name.endswith("_attention")
    ]
