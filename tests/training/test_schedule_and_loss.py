"""The recipe's Keras schedules, WarmupSchedule (kept for old files) and
SparseSmoothedCrossentropy: maths, config, errors."""

import math

import keras
import numpy as np
import pytest

from keras_chattn.training import SparseSmoothedCrossentropy
from keras_chattn.training import WarmupSchedule
from keras_chattn.training import cifar_recipe
from keras_chattn.training import make_schedule


def rates(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def test_recipe_schedule_is_keras_warmup_then_cosine():
    schedule = make_schedule("cosine", 0.2, total_steps=110, warmup_steps=10)
    steps = np.arange(0, 120)
    expected = np.where(
        steps < 10,
        0.2 * steps / 10,
        0.1 * (1 + np.cos(math.pi * np.clip((steps - 10) / 100, 0, 1))),
    )
    np.testing.assert_allclose(rates(schedule, steps), expected, atol=1e-6)
    plain = make_schedule("cosine", 0.1, total_steps=100)
    np.testing.assert_allclose(
        rates(plain, [0, 50, 100]), [0.1, 0.05, 0.0], atol=1e-6
    )


def test_recipe_step_schedule_divides_by_ten_at_half_and_three_quarters():
    schedule = make_schedule("step", 0.1, total_steps=64)
    np.testing.assert_allclose(
        rates(schedule, [0, 32, 33, 48, 49, 63]),
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
        rtol=1e-6,
    )


def test_step_schedule_refuses_a_warmup():
    with pytest.raises(ValueError, match="warmup_epochs needs schedule='co"):
        cifar_recipe(epochs=10, steps_per_epoch=2, schedule="step",
                     warmup_epochs=1)  # fmt: skip
    assert cifar_recipe(10, 2, schedule="step").schedule.boundaries == [10, 15]


def test_warmup_then_cosine():
    schedule = WarmupSchedule(0.2, total_steps=110, warmup_steps=10)
    steps = np.arange(0, 120)
    expected = np.where(
        steps < 10,
        0.2 * (steps + 1) / 10,
        0.1 * (1 + np.cos(math.pi * np.clip((steps - 10) / 100, 0, 1))),
    )
    np.testing.assert_allclose(rates(schedule, steps), expected, atol=1e-6)


def test_step_decay_at_half_and_three_quarters():
    schedule = WarmupSchedule(0.1, total_steps=64, decay="step")
    got = rates(schedule, [0, 31, 32, 47, 48, 63])
    np.testing.assert_allclose(
        got, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6
    )


def test_config_round_trip():
    schedule = WarmupSchedule(0.3, 50, 5, "step", (0.3, 0.6), 0.2)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(schedule)
    )
    assert restored.get_config() == schedule.get_config()
    np.testing.assert_allclose(
        rates(restored, range(60)), rates(schedule, range(60))
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"peak_learning_rate": 0},
            "peak_learning_rate must be a finite number > 0",
        ),
        ({"total_steps": 0}, "total_steps must be a positive integer"),
        ({"warmup_steps": 100}, r"smaller than total_steps \(100\)"),
        ({"warmup_steps": 1.5}, "warmup_steps must be a non-negative integer"),
        ({"decay": "linear"}, r"decay must be one of \['cosine', 'step'\]"),
        ({"boundaries": (0.8, 0.5)}, "boundaries must be increasing"),
        ({"factor": 1.0}, r"factor must be a number in \(0, 1\)"),
    ],
)
def test_schedule_errors(kwargs, message):
    arguments = {"peak_learning_rate": 0.1, "total_steps": 100, **kwargs}
    with pytest.raises(ValueError, match=message):
        WarmupSchedule(**arguments)


def test_smoothed_loss_matches_categorical_crossentropy():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(5), size=8).astype("float32")
    labels = rng.integers(0, 5, 8)
    one_hot = np.eye(5, dtype="float32")[labels]
    for smoothing in (0.0, 0.1, 0.3):
        ours = SparseSmoothedCrossentropy(label_smoothing=smoothing)
        reference = keras.losses.CategoricalCrossentropy(
            label_smoothing=smoothing
        )
        np.testing.assert_allclose(
            float(ours(labels, probabilities)),
            float(reference(one_hot, probabilities)),
            rtol=1e-5,
        )
    plain = keras.losses.SparseCategoricalCrossentropy()
    np.testing.assert_allclose(
        float(SparseSmoothedCrossentropy(0.0)(labels, probabilities)),
        float(plain(labels, probabilities)),
        rtol=1e-5,
    )


def test_smoothed_loss_from_logits_and_config():
    loss = SparseSmoothedCrossentropy(0.2, from_logits=True, name="smooth")
    restored = SparseSmoothedCrossentropy.from_config(loss.get_config())
    logits = np.array([[2.0, -1.0, 0.5]], "float32")
    assert restored.name == "smooth" and restored.from_logits
    reference = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.2
    )
    np.testing.assert_allclose(
        float(restored(np.array([2]), logits)),
        float(reference(np.array([[0.0, 0.0, 1.0]]), logits)),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"label_smoothing": 1.0}, r"label_smoothing must be a number in \[0"),
        ({"from_logits": "no"}, "from_logits must be True or False"),
    ],
)
def test_loss_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SparseSmoothedCrossentropy(**kwargs)
