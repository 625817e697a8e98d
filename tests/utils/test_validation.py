"""Every argument check names the argument, the expectation and the value."""

import pytest

from keras_chattn.utils import validation


@pytest.mark.parametrize(
    "check, args, message",
    [
        (
            validation.positive_int,
            ("reduction", 0),
            r"reduction must be a positive integer. Received: reduction=0",
        ),
        (
            validation.positive_int,
            ("reduction", 16.0),
            r"reduction=16.0 of type float",
        ),
        (
            validation.positive_int,
            ("reduction", True),
            r"reduction=True of type bool",
        ),
        (
            validation.optional_positive_int,
            ("limit", -1),
            r"limit must be a positive integer or None. Received: limit=-1",
        ),
        (
            validation.odd_positive_int,
            ("kernel_size", 4),
            r"kernel_size must be an odd positive integer",
        ),
        (
            validation.boolean,
            ("use_bias", 1),
            r"use_bias must be True or False. Received: use_bias=1 of type int",
        ),
        (
            validation.optional_boolean,
            ("augment", "yes"),
            r"augment must be True, False or None",
        ),
        (
            validation.choice,
            ("pool", "mean", ("max", "avg")),
            r"pool must be one of \['avg', 'max'\]. Received: pool='mean'",
        ),
        (
            validation.data_format,
            ("NHWC",),
            r"data_format must be one of \['channels_first', 'channels_last'\]",
        ),
        (
            validation.activation,
            ("gate", "sigmoidd"),
            r"gate must be the name of a Keras activation.*gate='sigmoidd'",
        ),
        (
            validation.number_in_range,
            ("momentum", 1.0, 0.0, 1.0),
            r"momentum must be a number in \[0.0, 1.0\). .*momentum=1.0",
        ),
        (
            validation.number_in_range,
            ("epsilon", 0, 0.0, None),
            r"epsilon must be a finite number > 0.0",
        ),
        (
            validation.initializer,
            ("kernel_initializer", "he_normall"),
            r"kernel_initializer must be the name of a Keras initializer",
        ),
        (
            validation.initializer,
            ("kernel_initializer", None),
            r"Received: kernel_initializer=None",
        ),
    ],
)
def test_errors_name_argument_and_value(check, args, message):
    with pytest.raises(ValueError, match=message):
        check(*args)


def test_good_values_come_back_normalised():
    import numpy as np

    assert validation.positive_int("n", np.int64(3)) == 3
    assert type(validation.positive_int("n", np.int64(3))) is int
    assert validation.optional_positive_int("n", None) is None
    assert validation.choice("c", "b", ("a", "b")) == "b"
    assert validation.number_in_range("m", 0, 0.0, 1.0) == 0.0
    assert validation.initializer("k", "he_normal") == "he_normal"
    assert validation.data_format(None) in ("channels_last", "channels_first")


def test_choices_keep_their_order_when_asked():
    with pytest.raises(ValueError, match=r"one of \['train', 'test'\]"):
        validation.choice("split", "val", ("train", "test"), ordered=True)
