"""SGD with a learning rate per group of variables.

Fine-tuning a pretrained network with new attention blocks usually wants
the new blocks to learn faster than the backbone they sit in.
"""

import re
from collections.abc import Sequence
from typing import Any

import keras

from keras_chattn.utils import validation


@keras.saving.register_keras_serializable(package="keras_chattn")
class ScaledSGD(keras.optimizers.SGD):
    """`keras.optimizers.SGD` whose step is scaled per variable.

    `scales` is a list of `(pattern, factor)`: a variable whose path (e.g.
    `conv2_block1_attention/reduce/kernel`) matches `pattern` (a regular
    expression, searched) has its gradient multiplied by `factor`, the
    first match winning; others keep factor 1. For SGD with momentum,
    scaling the gradient is scaling the learning rate. Weight decay is not
    scaled.

    Args:
        scales: list of `(pattern, factor)` pairs, factor >= 0.
        **kwargs: `keras.optimizers.SGD` arguments.

    Examples:

        >>> import keras_chattn
        >>> optimizer = keras_chattn.training.ScaledSGD(
        ...     scales=[("_attention/", 1.0), (".", 0.1)], learning_rate=0.01
        ... )
        >>> optimizer.scale_of("conv1_conv/kernel")
        0.1
    """

    def __init__(
        self, scales: Sequence[tuple[str, float]] = (), **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.scales = _check_scales(scales)
        self._compiled = [(re.compile(p), f) for p, f in self.scales]

    def scale_of(self, path):
        """The factor of the variable at `path`."""
        for pattern, factor in self._compiled:
            if pattern.search(path):
                return factor
        return 1.0

    def apply(self, grads, trainable_variables=None):
        variables = trainable_variables
        if variables is None:
            variables = self._trainable_variables
        scaled = [
            None if grad is None else grad * self.scale_of(variable.path)
            for grad, variable in zip(grads, variables, strict=True)
        ]
        return super().apply(scaled, trainable_variables)

    def get_config(self):
        return {
            **super().get_config(),
            "scales": [list(s) for s in self.scales],
        }


def _check_scales(scales):
    checked = []
    for entry in scales:
        if (
            not isinstance(entry, (list, tuple))
            or len(entry) != 2
            or not isinstance(entry[0], str)
        ):
            raise ValueError(
                "scales must be a list of (pattern, factor) pairs. "
                f"Received: scales={scales!r}"
            )
        try:
            re.compile(entry[0])
        except re.error as error:
            raise ValueError(
                f"scales: {entry[0]!r} is not a regular expression ({error})."
                f" Received: scales={scales!r}"
            ) from None
        factor = validation.number_in_range(
            "scales factor", entry[1], 0.0, float("inf")
        )
        checked.append((entry[0], factor))
    return checked
