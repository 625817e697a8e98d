import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.analysis import channel_diversity
from keras_chattn.analysis import diversity_report


def test_identical_channels_are_fully_correlated():
    base = np.random.default_rng(0).normal(size=(3, 8, 8, 1))
    same = np.repeat(base, 5, axis=-1)
    assert channel_diversity(same) == pytest.approx(1.0, abs=1e-5)
    assert channel_diversity(same, exclude_diagonal=True) == pytest.approx(
        1.0, abs=1e-5
    )
    # Negated copies count too: |c_ij| penalises both signs.
    mixed = np.concatenate([base, -base, 2 * base + 1], axis=-1)
    assert channel_diversity(mixed) == pytest.approx(1.0, abs=1e-5)


def test_independent_channels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 64, 64, 8))  # 4096 positions per channel
    with_diagonal = channel_diversity(x)
    without = channel_diversity(x, exclude_diagonal=True)
    # E|c| for independent channels is about sqrt(2 / (pi * 4096)) = 0.0125.
    assert with_diagonal == pytest.approx(1 / 8, abs=0.02)
    assert without < 0.025


def test_matches_numpy_pearson():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 6, 4))
    x[..., 1] += 0.7 * x[..., 0]
    expected = []
    for image in x:
        corr = np.corrcoef(image.reshape(-1, 4).T)
        expected.append(np.abs(corr).mean())
    got = channel_diversity(x, reduce=False)
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert channel_diversity(x) == pytest.approx(np.mean(expected), rel=1e-4)


def test_dead_channels_are_left_out_and_counted():
    # Before: constant channels counted as uncorrelated, so adding dead
    # channels made a layer look more diverse (0.157 -> 0.039 here).
    rng = np.random.default_rng(0)
    live = rng.normal(size=(4, 8, 8, 16))
    x = np.concatenate(
        [live, np.zeros((4, 8, 8, 12)), np.full((4, 8, 8, 4), 3.0)], -1
    )
    d, dead = channel_diversity(x, return_dead=True)
    assert d == pytest.approx(channel_diversity(live), rel=1e-6)
    assert dead == 16.0
    per_image, dead = channel_diversity(x, reduce=False, return_dead=True)
    np.testing.assert_array_equal(dead, [16.0] * 4)
    # A channel dead in one image only is left out of that image only.
    x = live.copy()
    x[0, ..., 3] = 0.0
    per_image, dead = channel_diversity(x, reduce=False, return_dead=True)
    np.testing.assert_array_equal(dead, [1.0, 0.0, 0.0, 0.0])
    assert per_image[0] == pytest.approx(
        channel_diversity(np.delete(live[:1], 3, axis=-1)), rel=1e-6
    )


def test_no_live_pair_gives_nan_not_zero():
    assert np.isnan(channel_diversity(np.zeros((1, 4, 4, 3))))
    one = np.random.default_rng(0).normal(size=(1, 4, 4, 1))
    assert channel_diversity(one) == pytest.approx(1.0)
    assert np.isnan(channel_diversity(one, exclude_diagonal=True))
    # The batch mean skips the images without a value.
    x = np.concatenate([np.zeros((1, 4, 4, 2)), np.repeat(one, 2, -1)])
    assert channel_diversity(x) == pytest.approx(1.0)


@pytest.mark.parametrize("factor", [1e-7, 1e-3, 1e4])
def test_scale_free(factor):
    # Before: a fixed 1e-12 variance threshold gave 0.153 at x1, 0 at x1e-7.
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 16))
    x[..., 5] = 2.0  # dead at every scale
    d, dead = channel_diversity(factor * x, return_dead=True)
    assert d == pytest.approx(channel_diversity(x), rel=1e-5)
    assert dead == 1.0


def test_independent_channels_on_a_small_map():
    # What docs/analysis.md states: with n positions, E|c| off the diagonal
    # is about sqrt(2 / (pi (n - 1))), so for C = 16 on 8x8 d is about
    # 0.156 (0.101 without the diagonal), far from 1 / C and 0.
    x = np.random.default_rng(0).normal(size=(64, 8, 8, 16))
    off_diagonal = np.sqrt(2 / (np.pi * 63))
    assert channel_diversity(x, exclude_diagonal=True) == pytest.approx(
        off_diagonal, rel=0.05
    )
    assert channel_diversity(x) == pytest.approx(
        1 / 16 + 15 / 16 * off_diagonal, rel=0.05
    )


def test_channel_centering_is_the_reference_logs():
    # The C3 reference code's logged correlation, from its description:
    # subtract the mean over channels at each position, then the mean
    # |cosine| between channels (diagonal included).
    x = np.random.default_rng(2).normal(size=(3, 5, 6, 4))
    x[..., 1] += x[..., 0]
    expected = []
    for image in x:
        rows = image.reshape(-1, 4).T  # (C, HW)
        centred = rows - rows.mean(axis=0, keepdims=True)
        norms = np.linalg.norm(centred, axis=1)
        expected.append(
            np.abs(centred @ centred.T / np.outer(norms, norms)).mean()
        )
    got = channel_diversity(x, centering="channels", reduce=False)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_channels_first():
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3))
    first = np.transpose(x, (0, 3, 1, 2))
    assert channel_diversity(first, data_format="channels_first") == (
        pytest.approx(channel_diversity(x), rel=1e-6)
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"features": np.zeros((4, 4, 3))}, r"4-D features .* \(4, 4, 3\)"),
        (
            {"features": np.zeros((1, 4, 4, 3)), "data_format": "nhwc"},
            r"data_format must be one of",
        ),
        (
            {"features": np.zeros((1, 4, 4, 3)), "centering": "mean"},
            r"centering must be one of \['channels', 'spatial'\]",
        ),
    ],
)
def test_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        channel_diversity(**kwargs)


def test_diversity_report_on_a_c3_model():
    model = models.cifar_resnet(20, attention="c3")
    images = np.random.default_rng(0).normal(size=(5, 32, 32, 3))
    lines = []
    rows = diversity_report(model, images, batch_size=2, print_fn=lines.append)
    assert [r["layer"] for r in rows] == [
        "conv2_attention",
        "conv3_attention",
        "conv4_attention",
    ]
    # The first block's input is the stem's output: check it independently.
    probe = keras.Model(model.inputs, model.get_layer("conv1_relu").output)
    expected = channel_diversity(probe.predict(images, verbose=0))
    assert rows[0]["input_diversity"] == pytest.approx(expected, rel=1e-5)
    assert rows[0]["input_dead_channels"] == pytest.approx(
        channel_diversity(probe.predict(images, verbose=0), return_dead=True)[1]
    )
    for row in rows:
        assert 0.0 <= row["output_diversity"] <= 1.0
        assert 0.0 <= row["output_dead_channels"] <= 16
        assert row["more_diverse"] == (
            row["output_diversity"] < row["input_diversity"]
        )
    assert len(lines) == 4


def test_diversity_report_needs_c3_blocks():
    with pytest.raises(ValueError, match=r"has none"):
        diversity_report(models.cifar_resnet(20, attention="se"), np.zeros(1))
