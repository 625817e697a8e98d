"""The top of every network: pooling, the bridge head, the classifier.

Residual networks end in global average pooling (`avg_pool`) and
`predictions`, as keras.applications' ResNets; plain networks (VGG, the
CC-block paper's small CNNs) flatten their last map and pass it through
ReLU Dense layers (`fc1`, `fc2`, ...) first. `head="bridge"` puts the
enhanced channel-wise attention report's network-level bridge
(`CrossLayerPooling` over every convolution's output) where the pooling or
the Flatten would be; `head="bridge_stages"` pools every stage's output
only.
"""

import dataclasses

import keras

from keras_chattn.layers.cross_layer_pooling import CrossLayerPooling
from keras_chattn.utils import validation

HEADS = ("gap", "bridge", "bridge_stages")
BRIDGE_HEADS = ("bridge", "bridge_stages")
POOLINGS = ("avg", "max")


# More classes than any benchmark has (ImageNet-21k: 21,843): a classifier
# past it is a typo, and TensorFlow's out-of-memory error would not say so.
MAX_CLASSES = 1_000_000


def check_top(include_top, classes, pooling, head):
    """Checks the builders' top arguments together."""
    if not isinstance(include_top, bool):
        # Most likely an input shape passed first, as before the builders
        # took keras.applications' order.
        raise ValueError(
            "include_top must be True or False. Received: "
            f"include_top={include_top!r}. The builders take keras."
            "applications' argument order (include_top, weights, "
            "input_tensor, input_shape, pooling, classes, ...): pass "
            "input_shape= and classes= by keyword."
        )
    validation.positive_int("classes", classes, MAX_CLASSES)
    if pooling is not None:
        validation.choice("pooling", pooling, POOLINGS)
    validation.choice("head", head, HEADS)
    if head in BRIDGE_HEADS and not include_top and pooling is not None:
        raise ValueError(
            f"head={head!r} already pools (through CrossLayerPooling); with "
            "include_top=False pass pooling=None. "
            f"Received: pooling={pooling!r}"
        )


def check_flatten_size(inputs, top, model_name):
    """A Flatten top needs a known image size; says so before building."""
    shape = tuple(inputs.shape[1:])
    if top.include_top and top.head == "gap" and None in shape:
        raise ValueError(
            f"{model_name} with include_top=True flattens its last feature "
            "map, so height and width must be known. Received: input_shape="
            f"{shape}; pass include_top=False for any size."
        )


@dataclasses.dataclass(frozen=True)
class Top:
    """The builders' top arguments, checked together, and the top they make.

    Examples:

        >>> import keras
        >>> from keras_chattn.models.heads import Top
        >>> top = Top.checked(True, None, 10, "softmax", "gap")
        >>> tuple(top.apply(keras.Input((4, 4, 8)), [], []).shape)
        (None, 10)
    """

    include_top: bool = True
    pooling: str = None
    classes: int = 1000
    classifier_activation: str = "softmax"
    head: str = "gap"

    @classmethod
    def checked(
        cls, include_top, pooling, classes, classifier_activation, head
    ):
        """A `Top` from a builder's arguments (see `check_top`)."""
        check_top(include_top, classes, pooling, head)
        validation.activation("classifier_activation", classifier_activation)
        return cls(include_top, pooling, classes, classifier_activation, head)

    def apply(self, x, stage_outputs, conv_outputs, hidden_units=None):
        """The top on the last map `x` (see `apply_top`)."""
        return apply_top(
            x,
            self.include_top,
            self.pooling,
            self.classes,
            self.classifier_activation,
            self.head,
            stage_outputs,
            conv_outputs,
            hidden_units,
        )


def apply_top(
    x,
    include_top,
    pooling,
    classes,
    classifier_activation,
    head="gap",
    stage_outputs=(),
    conv_outputs=(),
    hidden_units=None,
):
    """The network's top on its last map `x`.

    Args:
        x: the last stage's output.
        include_top, pooling, classes, classifier_activation, head: the
            builder's arguments of the same names.
        stage_outputs: every stage's output (for `head="bridge_stages"`).
        conv_outputs: every convolution's output (for `head="bridge"`).
        hidden_units: None for a residual network's top (global average
            pooling, then `predictions`); a tuple of widths for a plain
            network's (Flatten, then a ReLU Dense `fc{i}` per width, then
            `predictions`).
    """
    if head in BRIDGE_HEADS:
        maps = conv_outputs if head == "bridge" else stage_outputs
        x = CrossLayerPooling(name="bridge_pool")(list(maps))
        if not include_top:
            return x
    elif not include_top:
        return feature_pooling(x, pooling)
    elif hidden_units is None:
        x = global_pooling("avg", x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units or (), start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"fc{index}")(x)
    return classifier(x, classes, classifier_activation)


def feature_pooling(x, pooling):
    """`pooling` of keras.applications without the top: None, avg, max."""
    if pooling is None:
        return x
    validation.choice("pooling", pooling, POOLINGS)
    return global_pooling(pooling, x)


GLOBAL_POOLINGS = {
    ("avg", 3): keras.layers.GlobalAveragePooling1D,
    ("avg", 4): keras.layers.GlobalAveragePooling2D,
    ("avg", 5): keras.layers.GlobalAveragePooling3D,
    ("max", 3): keras.layers.GlobalMaxPooling1D,
    ("max", 4): keras.layers.GlobalMaxPooling2D,
    ("max", 5): keras.layers.GlobalMaxPooling3D,
}


def global_pooling(kind, x):
    """Global `"avg"` or `"max"` pooling of a sequence, image or volume
    (`avg_pool` / `max_pool`)."""
    layer = GLOBAL_POOLINGS[(kind, len(x.shape))]
    return layer(name=f"{kind}_pool")(x)


def classifier(x, classes, classifier_activation):
    """The `predictions` Dense; float32 under a mixed precision policy."""
    validation.positive_int("classes", classes)
    mixed = keras.config.dtype_policy().compute_dtype != "float32"
    return keras.layers.Dense(
        classes,
        activation=classifier_activation,
        dtype="float32" if mixed else None,
        name="predictions",
    )(x)


def make_model(input_tensor, inputs, outputs, name):
    """The functional model, from the user's `input_tensor` when given."""
    if input_tensor is not None:
        inputs = keras.utils.get_source_inputs(input_tensor)
        if len(inputs) == 1:  # one input, called with one tensor
            inputs = inputs[0]
    return keras.Model(inputs, outputs, name=name)
