"""Every constructor argument of every registered block, given bad values.

Each bad value must end in a `ValueError` that names the argument, raised
by the constructor or at the first call on a small map: never Keras'
wording that does not name it, a backend traceback, an out-of-memory
error, a hang or a signal, and never silent acceptance. The values come
from each argument's default (its type), so a new argument or a new block
is covered the day it is added.
"""

import inspect
import math

import numpy as np
import pytest

from keras_chattn.layers import registry

INTEGERS = [0, -1, 2.5, "4", True, None, math.nan, 10**6 + 1, 10**12]
OPTIONAL_INTEGERS = [0, -1, 2.5, "4", True, 10**6 + 1, 10**12]
BOOLEANS = [1, "yes", None]
FLOATS = [-1.0, math.nan, math.inf, "x", None, True]
CHOICES = ["bogus", 1, None]
BY_NAME = {
    "activation": ["bogus", 1],
    "gate": ["bogus", 1],
    "output_activation": ["bogus", 1],
    "kernel_initializer": ["bogus", 1, None],
    "kernel_regularizer": ["bogus", 1],
    "data_format": ["bogus", 1, "NHWC"],
    "ch_units": [(0, 4), (16,), "x", 5, (10**12, 4)],
    "pool_types": [("avg", "bogus"), (), "avg", 1],
    "spatial_size": [0, -1, 2.5, "4", True, (4, 0), 10**12],
}
# Values that are good for these arguments though bad for most integers:
# a reduction, a softmax group or a position limit past the channel count
# only clamps, and ECA's gamma and b are any real numbers of its formula.
GOOD = {
    "extent": [0],  # Gather-Excite's whole-map gather
    "reduction": [10**6 + 1, 10**12],
    "softmax_group_size": [10**6 + 1, 10**12],
    "max_positions": [10**6 + 1, 10**12],
    "gamma": [2.5, 10**6 + 1, 10**12],
    "b": [0, -1, 2.5, 10**6 + 1],
}
REQUIRED = {"sk": {"filters": 16, "groups": 4}, "splat": {"filters": 16}}


def bad_values(name, default):
    if name in BY_NAME:
        values = BY_NAME[name]
    elif isinstance(default, bool):
        values = BOOLEANS
    elif isinstance(default, float):
        values = FLOATS
    elif isinstance(default, int) or default is inspect.Parameter.empty:
        values = INTEGERS
    elif default is None:
        values = OPTIONAL_INTEGERS
    else:
        values = CHOICES
    return [v for v in values if v not in GOOD.get(name, ())]


def cases(key):
    cls = registry.ATTENTION_LAYERS[key]
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in ("self", "kwargs"):
            continue
        for value in bad_values(name, parameter.default):
            yield name, value


def outcome(cls, kwargs, name, value):
    """None when the block refuses `value` naming `name`, else what
    happened."""
    try:
        layer = cls(**kwargs)
        x = np.random.default_rng(0).normal(size=(2, 8, 8, 16))
        layer(x.astype("float32"))
    except ValueError as error:
        message = str(error)
        if name in message and "Received" in message:
            return None
        return f"ValueError not naming it: {message[:120]}"
    except Exception as error:  # noqa: BLE001 (what the test reports)
        return f"{type(error).__name__}: {str(error)[:120]}"
    return "accepted"


@pytest.mark.parametrize("key", sorted(registry.ATTENTION_LAYERS))
def test_every_bad_argument_is_refused_by_name(key):
    cls = registry.ATTENTION_LAYERS[key]
    failures = []
    count = 0
    for name, value in cases(key):
        count += 1
        kwargs = {**REQUIRED.get(key, {}), name: value}
        result = outcome(cls, kwargs, name, value)
        if result is not None:
            failures.append(f"{name}={value!r}: {result}")
    assert count >= 5
    assert not failures, "\n".join(failures)


def test_the_good_values_are_good():
    for key, cls in registry.ATTENTION_LAYERS.items():
        parameters = inspect.signature(cls.__init__).parameters
        for name, values in GOOD.items():
            if name not in parameters:
                continue
            for value in values:
                kwargs = {**REQUIRED.get(key, {}), name: value}
                layer = cls(**kwargs)
                x = np.zeros((2, 8, 8, 16), "float32")
                assert tuple(layer(x).shape) == x.shape
