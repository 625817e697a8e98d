"""Cross-entropy on integer labels with label smoothing."""

from typing import Any

import keras

from keras_chattn.utils import validation


@keras.saving.register_keras_serializable(package="keras_chattn")
class SparseSmoothedCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy of integer labels with label smoothing.

    `keras.losses.SparseCategoricalCrossentropy` has no label smoothing; this
    one turns the labels into one-hot rows of `num_classes = y_pred.shape[-1]`
    and mixes them with the uniform distribution: the target is
    `(1 - label_smoothing) * one_hot + label_smoothing / num_classes`.

    Args:
        label_smoothing: in [0, 1). Defaults to 0.1.
        from_logits: whether `y_pred` are logits. Defaults to False.
        **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`, ...).

    Examples:

        >>> import numpy as np
        >>> from keras_chattn.training import SparseSmoothedCrossentropy
        >>> loss = SparseSmoothedCrossentropy(label_smoothing=0.0)
        >>> round(float(loss(np.array([1]), np.array([[0.5, 0.5]]))), 4)
        0.6931
    """

    def __init__(
        self,
        label_smoothing: float = 0.1,
        from_logits: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "sparse_smoothed_crossentropy")
        super().__init__(**kwargs)
        self.label_smoothing = validation.number_in_range(
            "label_smoothing", label_smoothing, 0.0, 1.0
        )
        self.from_logits = validation.boolean("from_logits", from_logits)

    def call(self, y_true, y_pred):
        num_classes = y_pred.shape[-1]
        labels = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))
        one_hot = keras.ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot,
            keras.ops.reshape(y_pred, (-1, num_classes)),
            from_logits=self.from_logits,
            label_smoothing=self.label_smoothing,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }
