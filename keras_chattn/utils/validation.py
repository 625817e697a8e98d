"""Argument checks shared by the whole package.

Every check raises a `ValueError` that names the argument, says what was
expected and repeats the value received, so a user never has to read a
backend traceback to find a typo in a call. Layers, builders, data
pipelines, the training recipe and the tuner all check with these.
"""

import math
import numbers

import keras

# Sizes past which no block can be built sensibly (a constructor refuses
# them, naming the limit, instead of hanging or running out of memory at
# its first call): a channel or hidden width past 65,536 is wider than any
# CNN layer; a spatial size (a kernel, a dilation, a stride, a working map
# side) past 1,024 exceeds the maps the blocks are placed on; 64 stacked
# convolutions or branches is past anything the papers try.
MAX_WIDTH = 65536
MAX_SIZE = 1024
MAX_REPEATS = 64


def positive_int(name, value, maximum=None):
    """Returns `value` as a Python int, or raises if it is not one >= 1
    (and <= `maximum`, when given).

    Booleans and floats (even `16.0`) are refused: a reduction ratio or a
    kernel size that is not an integer is almost always a bug upstream.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be a positive integer. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(
            f"{name} must be a positive integer. Received: {name}={value!r}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"{name} must be a positive integer no larger than {maximum:,} "
            "(no block can be built sensibly past it). "
            f"Received: {name}={value!r}"
        )
    return int(value)


def optional_positive_int(name, value):
    """None, or `value` as a Python int >= 1 (booleans refused)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < 1
    ):
        raise ValueError(
            f"{name} must be a positive integer or None. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def non_negative_int(name, value, optional=False):
    """`value` as a Python int >= 0 (None too with `optional`), or raises.

    For seeds and epoch indices; booleans and floats are refused.
    """
    if optional and value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < 0
    ):
        expected = "a non-negative integer" + (" or None" if optional else "")
        raise ValueError(
            f"{name} must be {expected}. Received: {name}={value!r}"
        )
    return int(value)


def odd_positive_int(name, value, maximum=MAX_SIZE):
    """Returns `value` as an int, or raises if it is not odd, >= 1 and
    <= `maximum`."""
    value = positive_int(name, value, maximum)
    if value % 2 == 0:
        raise ValueError(
            f"{name} must be an odd positive integer so that 'same' padding "
            f"keeps the map centred. Received: {name}={value}"
        )
    return value


def boolean(name, value):
    """Returns `value` if it is a bool, or raises."""
    if not isinstance(value, bool):
        raise ValueError(
            f"{name} must be True or False. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def optional_boolean(name, value):
    """Returns `value` if it is a bool or None, or raises."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(
            f"{name} must be True, False or None. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def choice(name, value, choices, ordered=False):
    """Returns `value` if it is one of `choices`, or raises listing them.

    The choices are listed sorted, or in their own order with `ordered`.
    """
    if not isinstance(value, str) or value not in choices:
        listed = list(choices) if ordered else sorted(choices)
        raise ValueError(
            f"{name} must be one of {listed}. Received: {name}={value!r}"
        )
    return value


def data_format(value):
    """Resolves `None` to Keras' global image data format and checks it."""
    if value is None:
        return keras.config.image_data_format()
    return choice("data_format", value, ("channels_first", "channels_last"))


def _resolved(name, value, get, expected):
    """`get(value)`, or a ValueError naming the argument (Keras' own
    "Could not interpret ... identifier" names no argument)."""
    try:
        return get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} must be {expected}. Received: {name}={value!r}"
        ) from error


def activation(name, value):
    """Resolves an activation identifier, naming the argument on failure."""
    return _resolved(
        name,
        value,
        keras.activations.get,
        "the name of a Keras activation (e.g. 'relu', 'sigmoid'), a "
        "callable or None",
    )


def number_in_range(name, value, low, high):
    """Returns `value` as a float, or raises unless low <= value < high.

    With `high=None` the range is open above and `value` must then be strictly
    greater than `low` (an epsilon, say).
    """
    is_number = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
    if high is None:
        ok = is_number and value > low
        expected = f"a finite number > {low}"
    else:
        ok = is_number and low <= value < high
        expected = f"a number in [{low}, {high})"
    if not ok:
        raise ValueError(
            f"{name} must be {expected}. Received: {name}={value!r}"
        )
    return float(value)


def kernel_arguments(kernel_initializer, kernel_regularizer):
    """A block's `(kernel_initializer, kernel_regularizer)`, resolved:
    a new initializer instance and a regularizer (or None)."""
    return (
        initializer_instance("kernel_initializer", kernel_initializer),
        regularizer("kernel_regularizer", kernel_regularizer),
    )


def batchnorm_settings(batchnorm_momentum, batchnorm_epsilon):
    """A block's `(batchnorm_momentum, batchnorm_epsilon)` as floats:
    momentum in [0, 1), epsilon a finite number > 0."""
    return (
        number_in_range("batchnorm_momentum", batchnorm_momentum, 0.0, 1.0),
        number_in_range("batchnorm_epsilon", batchnorm_epsilon, 0.0, None),
    )


def initializer_instance(name, value):
    """`value` as a new Keras initializer, naming the argument on failure.

    Made once: each unseeded initializer Keras makes draws a seed, so a
    second instance would change every later layer's weights under
    `keras.utils.set_random_seed`.
    """
    if value is not None:
        try:
            return keras.initializers.get(value)
        except (ValueError, TypeError):
            pass
    return initializer(name, value)  # raises, naming the argument


def regularizer(name, value):
    """`value` as a Keras regularizer (or None), naming the argument on
    failure."""
    return _resolved(
        name,
        value,
        keras.regularizers.get,
        "the name of a Keras regularizer (e.g. 'l2'), its config, an "
        "instance or None",
    )


def initializer(name, value):
    """Checks that `value` identifies a Keras initializer; returns it as is.

    The identifier (not an instance) is returned so that every layer that
    receives it makes its own initializer.
    """
    try:
        keras.initializers.get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} must be the name of a Keras initializer (e.g. "
            f"'he_normal', 'glorot_uniform'), its config or an instance. "
            f"Received: {name}={value!r}"
        ) from error
    if value is None:
        raise ValueError(
            f"{name} must be the name of a Keras initializer, its config or "
            f"an instance. Received: {name}=None"
        )
    return value
