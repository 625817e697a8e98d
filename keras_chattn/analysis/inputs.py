"""Checks of what the analysis functions are given.

Each raises a `ValueError` naming the argument, what was expected and what
was received, before any model runs: a wrong class index or a label list of
another length would otherwise give maps of the wrong class or an
`IndexError` from deep inside a batch loop.
"""

import numbers

import keras
import numpy as np

from keras_chattn.utils import validation


def model(value, function):
    """`value` if it is a functional `keras.Model`, else a clear error."""
    if not isinstance(value, keras.Model) or not hasattr(value, "inputs"):
        raise ValueError(
            f"{function} needs model to be a functional keras.Model. "
            f"Received: model={value!r}"
        )
    return value


def images(value, name="images"):
    """`value` as a NumPy array of at least one example (with a batch
    axis)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} must be an array of examples with a batch axis. "
            f"Received: {name} of type {type(value).__name__}"
        ) from error
    if array.ndim < 2 or array.shape[0] < 1:
        raise ValueError(
            f"{name} must hold at least one example, with a batch axis "
            f"first. Received: {name} of shape {array.shape}"
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
        array.dtype, np.complexfloating
    ):
        raise ValueError(
            f"{name} must be a numeric array. Received: {name} of dtype "
            f"{array.dtype}"
        )
    return array


def batch_size(value):
    return validation.positive_int("batch_size", value)


def labels(value, count, classes=None):
    """`value` as an int array of `count` class indices in [0, classes)."""
    array = np.asarray(value)
    if array.ndim > 1 and array.shape[-1] == 1:
        array = array.reshape(-1)
    if array.ndim != 1 or len(array) != count:
        raise ValueError(
            f"labels must give one class per image: {count} images. "
            f"Received: labels of shape {array.shape}"
        )
    return class_indices("labels", array, classes)


def class_indices(name, array, classes=None):
    """An int array of class indices, refusing floats, negatives and (with
    `classes`) indices past the model's classes."""
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{name} must be integer class indices. Received: {name} of "
            f"dtype {array.dtype}"
        )
    if array.size and array.min() < 0:
        raise ValueError(
            f"{name} must be class indices >= 0. Received: {name} holding "
            f"{int(array.min())}"
        )
    if classes is not None and array.size and array.max() >= classes:
        raise ValueError(
            f"{name} must be class indices below the model's {classes} "
            f"classes (0 to {classes - 1}). Received: {name} holding "
            f"{int(array.max())}"
        )
    return array.astype("int64")


def class_index(value, classes, count):
    """None, or one class index per image (from an int or a sequence)."""
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if not 0 <= value < classes:
            raise ValueError(
                f"class_index must be a class of the model's {classes} "
                f"(0 to {classes - 1}). Received: class_index={value!r}"
            )
        return np.full(count, int(value), dtype="int64")
    array = np.asarray(value)
    if array.ndim != 1 or len(array) != count:
        raise ValueError(
            "class_index must be None, an int or one int per image "
            f"({count} images). Received: class_index={value!r}"
        )
    return class_indices("class_index", array, classes)
