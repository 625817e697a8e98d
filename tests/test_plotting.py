"""Every figure is a matplotlib Figure with the expected panels (Agg)."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from keras_chattn import analysis  # noqa: E402
from keras_chattn import models  # noqa: E402
from keras_chattn import plotting  # noqa: E402

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (3, 32, 32, 3), dtype="uint8")


def panels(figure):
    """Axes that show an image (colour bars excluded)."""
    return [
        a for a in figure.axes if a.images and a.get_label() != "<colorbar>"
    ]


def test_spatial_maps():
    maps = {
        "block a": RNG.uniform(size=(3, 8, 8)),
        "block b": RNG.uniform(size=(3, 4, 4)),
    }
    figure = plotting.spatial_maps(
        IMAGES, maps, [0, 1, 2], [2, 1, 0], ["cat", "dog", "fox"]
    )
    assert len(panels(figure)) == 3 * 3
    assert figure.axes[0].get_title() == "true: cat\npredicted: fox"


def test_channel_excitation():
    model = models.cifar_resnet(8, attention="se")
    result = analysis.class_excitation(
        model, RNG.uniform(size=(6, 32, 32, 3)).astype("float32"), [0, 1, 2] * 2
    )
    figure = plotting.channel_excitation(result, ["a", "b", "c"])
    assert len(panels(figure)) == 3


def test_cc_excitation_affinity_and_grad_cam():
    figure = plotting.cc_excitation(
        RNG.uniform(size=(8, 8, 16)), IMAGES[0], channels=5
    )
    assert len(panels(figure)) == 6
    figure = plotting.affinity({"c3 a": np.eye(4), "c3 b": np.ones((8, 8)) / 8})
    assert len(panels(figure)) == 2
    heat = {
        "with": RNG.uniform(size=(3, 32, 32)),
        "without": RNG.uniform(size=(3, 32, 32)),
    }
    figure = plotting.grad_cam_overlays(
        IMAGES, heat, [0, 1, 2], {"with": [0, 0, 0]}
    )
    assert len(panels(figure)) == 3 * 3


def test_overlays_for_tensorboard():
    images = plotting.overlays(IMAGES, RNG.uniform(size=(3, 4, 4)))
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8


def test_attention_images_callback_writes_tensorboard_images(tmp_path):
    tf = pytest.importorskip("tensorflow")
    model = models.cifar_resnet(8, attention="cbam")
    x = RNG.uniform(size=(2, 32, 32, 3)).astype("float32")
    model.compile("sgd", "sparse_categorical_crossentropy")
    callback = plotting.AttentionImages(x, tmp_path)
    model.fit(x, np.array([0, 1]), epochs=1, verbose=0, callbacks=[callback])
    tags = set()
    for event_file in tmp_path.glob("events.*"):
        for record in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(v.tag for v in record.summary.value)
    assert "attention/conv3_block1_attention" in tags
