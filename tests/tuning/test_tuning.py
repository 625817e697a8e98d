"""AttentionHyperModel's space and a real search on the shared images."""

import json

import keras
import keras_tuner
import numpy as np
import pytest

import keras_chattn
from keras_chattn import tuning
from keras_chattn.data import cifar_dataset
from keras_chattn.tuning import spaces
from keras_chattn.tuning.hypermodel import block_defaults
from tests.data.shared import DATA
from tests.data.shared import needs_data

SMALL = {"builder": "small_cnn", "builder_kwargs": {"base_width": 4}}


def blocks_of(model, block):
    cls = keras_chattn.ATTENTION_LAYERS[block]
    return [layer for layer in model.layers if isinstance(layer, cls)]


@pytest.mark.parametrize("block", sorted(keras_chattn.ATTENTION_LAYERS))
def test_fixed_values_reach_the_block(block):
    hp = keras_tuner.HyperParameters()
    hp.Fixed("attention", block)
    space = spaces.search_space(block)
    assert space, f"{block} declares no search space"
    chosen = {}
    for argument, values in space.items():
        # A value other than the default, to see it arrive.
        chosen[argument] = next(
            v for v in values if v != block_defaults(block)[argument]
        )
        hp.Fixed(f"{block}_{argument}", chosen[argument])
    model = tuning.AttentionHyperModel(**SMALL).build(hp)
    layers = blocks_of(model, block)
    assert layers
    for layer in layers:
        config = layer.get_config()
        for argument, value in chosen.items():
            assert config[argument] == value, (layer.name, argument)


def test_defaults_and_conditional_scopes():
    hypermodel = tuning.AttentionHyperModel(**SMALL)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.get("attention") == "none" and hp.get("learning_rate") == 0.1
    assert not any(blocks_of(model, b) for b in keras_chattn.ATTENTION_LAYERS)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("attention", "cbam")
    hypermodel.build(hp)
    assert hp.get("cbam_reduction") == 16
    assert hp.get("cbam_spatial_kernel_size") == 7
    assert "se_reduction" not in hp.values  # only the chosen block's
    flat = tuning.AttentionHyperModel(conditional=False, **SMALL)
    hp = keras_tuner.HyperParameters()
    hp.Fixed("attention", "se")
    flat.build(hp)
    assert {"cbam_reduction", "cc_emp", "cc_variant", "c3_reduction"} <= set(
        hp.values
    )


def test_weight_decay_is_searched_when_asked():
    hypermodel = tuning.AttentionHyperModel(
        search_weight_decay=True, search_learning_rate=False, **SMALL
    )
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert hp.get("weight_decay") == 5e-4 and "learning_rate" not in hp.values
    assert model.optimizer.weight_decay == pytest.approx(5e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"blocks": ["se", "gcn"]}, r"blocks must be a non-empty list of"),
        ({"blocks": []}, r"blocks must be a non-empty list of"),
        ({"builder": "resnet9"}, r"model must be one of"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tuning.AttentionHyperModel(**kwargs)


def test_unknown_tuner():
    with pytest.raises(ValueError, match=r"tuner must be one of"):
        tuning.make_tuner(tuning.AttentionHyperModel(), tuner="grid")


@pytest.fixture(scope="module")
def splits():
    if not DATA.is_dir():
        pytest.skip(f"the shared CIFAR-10 files are not at {DATA}")
    return tuple(
        cifar_dataset(
            split=split, data_dir=DATA, batch_size=64, limit=256, seed=0
        )
        for split in ("train", "test")
    )


def small_hypermodel(**kwargs):
    return tuning.AttentionHyperModel(
        blocks=["none", "se", "cbam"], steps_per_epoch=4, **SMALL, **kwargs
    )


@needs_data
def test_two_trial_search_then_resume(splits, tmp_path):
    train, test = splits
    results = tuning.search(
        train,
        test,
        small_hypermodel(),
        max_trials=2,
        directory=tmp_path,
        verbose=0,
    )
    assert [row["status"] for row in results.rows] == ["COMPLETED"] * 2
    trials = tuning.make_tuner(
        small_hypermodel(), max_trials=2, directory=tmp_path, resume=True
    ).oracle.trials
    for row in results.rows:
        assert 0.0 <= row["val_accuracy"] <= 1.0
        assert row["val_accuracy"] == trials[row["trial"]].score
        assert row["parameters"] > 0
    best = keras.saving.load_model(results.best_model_path)
    best_score = max(row["val_accuracy"] for row in results.rows)
    score = best.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    assert score == pytest.approx(best_score, abs=1e-6)
    assert results.best_line().startswith(
        results.best_hyperparameters["attention"]
    )
    tuning.write_results(results, tmp_path)
    assert json.loads((tmp_path / "best_hyperparameters.json").read_text())
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 3

    with pytest.raises(FileExistsError, match="resume=True"):
        tuning.search(train, test, small_hypermodel(), directory=tmp_path)
    resumed = tuning.search(
        train,
        test,
        small_hypermodel(),
        max_trials=3,
        directory=tmp_path,
        resume=True,
        verbose=0,
    )
    assert len(resumed.rows) == 3
    assert resumed.rows[:2] == results.rows  # kept, not run again


class FailsFirstFit(tuning.AttentionHyperModel):
    calls = 0

    def fit(self, hp, model, *args, **kwargs):
        type(self).calls += 1
        if type(self).calls == 1:
            raise RuntimeError("the first trial breaks")
        return super().fit(hp, model, *args, **kwargs)


@needs_data
def test_failed_trial_is_recorded_and_search_goes_on(splits, tmp_path):
    train, test = splits
    hypermodel = FailsFirstFit(
        blocks=["none", "se"], steps_per_epoch=4, **SMALL
    )
    results = tuning.search(
        train, test, hypermodel, max_trials=2, directory=tmp_path, verbose=0
    )
    assert [row["status"] for row in results.rows] == ["FAILED", "COMPLETED"]


class DivergesFirst(tuning.AttentionHyperModel):
    calls = 0

    def fit(self, hp, model, *args, **kwargs):
        type(self).calls += 1
        if type(self).calls == 1:
            kernel = model.weights[-2]  # the classifier's kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))
        return super().fit(hp, model, *args, **kwargs)


@needs_data
def test_a_nan_loss_fails_the_trial(splits, tmp_path):
    train, test = splits
    hypermodel = DivergesFirst(blocks=["none"], steps_per_epoch=4, **SMALL)
    results = tuning.search(
        train, test, hypermodel, max_trials=2, directory=tmp_path, verbose=0
    )
    assert [row["status"] for row in results.rows] == ["FAILED", "COMPLETED"]


@needs_data
def test_bayesian_search_flattens_the_space(splits, tmp_path):
    train, test = splits
    results = tuning.search(
        train,
        test,
        small_hypermodel(),
        tuner="bayesian",
        max_trials=2,
        directory=tmp_path,
        verbose=0,
    )
    assert [row["status"] for row in results.rows] == ["COMPLETED"] * 2
    assert {"se_reduction", "cbam_reduction"} <= set(
        results.best_hyperparameters
    )
    assert np.isfinite([row["val_accuracy"] for row in results.rows]).all()
