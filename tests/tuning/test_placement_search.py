"""AttentionHyperModel over placement: per-stage blocks, positions and
every as conditional hyperparameters, the one-line best and its rebuild."""

import random

import keras
import keras_tuner
import pytest

from keras_chattn import tuning
from keras_chattn.tuning import hypermodel as hypermodel_module
from keras_chattn.tuning.descriptions import describe
from keras_chattn.tuning.descriptions import parse_line

BLOCKS = ["none", "se", "cbam", "c3", "cc", "bam"]


@pytest.fixture
def built(monkeypatch):
    """The builder's keyword arguments of every build, with a tiny model
    in place of the network (the hyperparameters are declared before)."""
    calls = []

    def build_model(name, **kwargs):
        calls.append(kwargs)
        inputs = keras.Input(kwargs["input_shape"])
        outputs = keras.layers.Dense(kwargs["classes"])(
            keras.layers.GlobalAveragePooling2D()(inputs)
        )
        return keras.Model(inputs, outputs)

    monkeypatch.setattr(hypermodel_module, "build_model", build_model)
    return calls


def placement_hypermodel(**kwargs):
    return tuning.AttentionHyperModel(
        blocks=BLOCKS, per_stage=True, positions="all", every=(1, 2), **kwargs
    )


def test_stage_hyperparameters_are_conditional(built):
    hypermodel = placement_hypermodel()
    hp = keras_tuner.HyperParameters()
    hypermodel.build(hp)
    assert [hp.get(f"stage{s}_attention") for s in (1, 2, 3)] == ["none"] * 3
    assert not any("position" in name or "every" in name for name in hp.values)
    assert built[-1]["attention"] == [None, None, None]

    hp = keras_tuner.HyperParameters()
    hp.Fixed("stage2_attention", "se")
    hp.Fixed("stage3_attention", "bam")
    hypermodel.build(hp)
    active = {h.name for h in hp.space if hp.is_active(h)}
    assert {"stage2_se_reduction", "stage2_position", "stage2_every"} <= active
    # BAM goes between stages: its own settings, no position, no every.
    assert "stage3_bam_reduction" in active
    assert not {"stage3_position", "stage3_every", "stage1_position"} & active
    assert built[-1]["attention"] == [None, "se", "bam"]

    flat = placement_hypermodel(conditional=False)
    hp = keras_tuner.HyperParameters()
    flat.build(hp)
    assert {"stage1_position", "stage3_every", "stage2_cc_emp"} <= set(
        hp.values
    )
    assert "attention_position" not in built[-1]  # none anywhere
    # The flat space's unused values stay out of the line.
    assert describe(hp.values) == (
        "stage1: none; stage2: none; stage3: none; learning_rate=0.1"
    )


def test_one_block_for_the_network_with_position_and_every(built):
    hypermodel = tuning.AttentionHyperModel(
        blocks=["none", "cbam"], positions=["post", "identity"], every=[2]
    )
    hp = keras_tuner.HyperParameters()
    hp.Fixed("attention", "cbam")
    hp.Fixed("position", "identity")
    hypermodel.build(hp)
    assert built[-1]["attention"] == "cbam"
    assert built[-1]["attention_position"] == "identity"
    assert built[-1]["attention_every"] == 2  # the only value: not searched
    assert "every" not in hp.values


def random_values(hypermodel, rng):
    """Values the search could pick: each active choice drawn at random,
    until no new hyperparameter appears."""
    values = {}
    while True:
        hp = keras_tuner.HyperParameters()
        hp.values.update(values)
        hypermodel.build(hp)
        new = [h for h in hp.space if h.name not in values and hp.is_active(h)]
        if not new:
            return {k: v for k, v in values.items() if k in hp.values}
        for h in new:
            if type(h).__name__ == "Choice":
                values[h.name] = rng.choice(list(h.values))
            else:
                values[h.name] = round(rng.uniform(0.01, 0.3), 4)


@pytest.mark.parametrize("seed", range(6))
def test_the_best_line_rebuilds_the_same_network(built, seed):
    hypermodel = placement_hypermodel()
    values = random_values(hypermodel, random.Random(seed))
    hypermodel.build(_hp(values))
    expected = built[-1]
    line = describe(values)
    # The line leaves out the builder's defaults ("standard", every 1).
    written = {
        k: v
        for k, v in values.items()
        if not (k.endswith("_position") and v == "standard")
        and not (k.endswith("_every") and v == 1)
    }
    assert parse_line(line) == written, line
    hypermodel.rebuild(line)
    assert built[-1] == expected


def _hp(values):
    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    return hp


def test_rebuild_refuses_what_the_search_could_not_pick(built):
    hypermodel = placement_hypermodel()
    with pytest.raises(ValueError, match=r"stage2_se_reduction must be one"):
        hypermodel.rebuild(
            "stage1: none; stage2: se(reduction=3); stage3: none"
        )
    with pytest.raises(ValueError, match=r"stage2_cbam_kernel are not"):
        hypermodel.rebuild("stage1: none; stage2: cbam(kernel=3); stage3: none")
    with pytest.raises(ValueError, match=r"stage2_position must be one"):
        hypermodel.rebuild("stage1: none; stage2: se at middle; stage3: none")
    with pytest.raises(ValueError, match=r"Cannot read"):
        parse_line("stage1: se(reduction=)")
    with pytest.raises(ValueError, match=r"learning_rate must be a number"):
        hypermodel.rebuild(
            "stage1: se; stage2: se; stage3: se; learning_rate=3"
        )


def test_positions_are_checked_against_the_builder():
    assert tuning.AttentionHyperModel(positions="all").positions == (
        "standard", "pre", "post", "identity", "after_conv1",
    )  # fmt: skip
    resnet50 = tuning.AttentionHyperModel(
        builder="resnet50", input_shape=(64, 64, 3), positions="all"
    )
    assert resnet50.positions[-1] == "after_conv2"
    with pytest.raises(ValueError, match=r"basic blocks"):
        tuning.AttentionHyperModel(positions=["after_conv2"])
    with pytest.raises(ValueError, match=r"plain blocks, \['standard'\]"):
        tuning.AttentionHyperModel(builder="vgg16", positions=["post"])
    with pytest.raises(ValueError, match=r"every must be a non-empty list"):
        tuning.AttentionHyperModel(every=2)


def test_space_size_counts_blocks_settings_positions_and_every():
    single = tuning.AttentionHyperModel(blocks=["none", "se"])
    assert single.configurations() == 1 + 4
    staged = tuning.AttentionHyperModel(
        blocks=["none", "se", "bam"], per_stage=True, positions="all",
        every=(1, 2),
    )  # fmt: skip
    # none 1, SE 4 reductions x 5 positions x 2, BAM 3 x 2 settings.
    assert staged.configurations() == (1 + 40 + 6) ** 3
