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


def test_constant_channels_are_uncorrelated_not_nan():
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 3))
    x[..., 2] = 5.0
    value = channel_diversity(x, reduce=False)
    assert np.all(np.isfinite(value))
    corr = [np.abs(np.corrcoef(i[..., :2].reshape(-1, 2).T)).sum() for i in x]
    np.testing.assert_allclose(value, np.array(corr) / 9, rtol=1e-4)
    assert channel_diversity(np.zeros((1, 4, 4, 3))) == 0.0
    assert channel_diversity(np.ones((1, 4, 4, 1)), exclude_diagonal=True) == 0


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
    for row in rows:
        assert 0.0 <= row["output_diversity"] <= 1.0
        assert row["more_diverse"] == (
            row["output_diversity"] < row["input_diversity"]
        )
    assert len(lines) == 4


def test_diversity_report_needs_c3_blocks():
    with pytest.raises(ValueError, match=r"has none"):
        diversity_report(models.cifar_resnet(20, attention="se"), np.zeros(1))
