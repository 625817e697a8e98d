import time

import keras
import numpy as np
import pytest

from keras_chattn import models
from keras_chattn.models import weights as model_weights


def test_weights_path_round_trip(tmp_path):
    model = models.cifar_resnet(20, attention="se")
    path = tmp_path / "se20.weights.h5"
    model.save_weights(path)
    reloaded = models.cifar_resnet(20, attention="se", weights=str(path))
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )


def test_missing_weights_file(tmp_path):
    with pytest.raises(ValueError, match=r"no such file"):
        models.cifar_resnet(20, weights=str(tmp_path / "absent.weights.h5"))


def test_imagenet_offline_fails_fast_with_instructions(monkeypatch, tmp_path):
    # Nothing listens on the loopback discard port: the connection is refused
    # at once, as an offline machine's would be.
    monkeypatch.setattr(model_weights, "IMAGENET_HOST", ("127.0.0.1", 9))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    started = time.perf_counter()
    with pytest.raises(ValueError) as error:
        models.ResNet50(weights="imagenet", attention="se")
    message = str(error.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in message
    assert str(tmp_path / "models") in message
    assert "weights=None" in message
    assert time.perf_counter() - started < 60  # no minutes of retries


def test_imagenet_loads_by_name_from_the_cache(monkeypatch, tmp_path):
    # A stand-in for keras.applications: a model with the same layer names
    # whose weights are known, as the downloaded file would provide.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    (
        tmp_path
        / "models"
        / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ).write_bytes(b"")
    source = models.VGG16(include_top=False, input_shape=(32, 32, 3))

    def fake_application(weights, include_top, input_shape):
        assert weights == "imagenet" and not include_top
        return source

    monkeypatch.setattr(keras.applications, "VGG16", fake_application)
    model = models.VGG16(
        include_top=False,
        input_shape=(32, 32, 3),
        weights="imagenet",
        attention="se",
    )
    np.testing.assert_array_equal(
        model.get_layer("block3_conv2").get_weights()[0],
        source.get_layer("block3_conv2").get_weights()[0],
    )
    assert model.get_layer("block3_conv2_attention").weights


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": "imagenet", "classes": 10}, r"needs classes=1000"),
        ({"weights": 3}, r"weights must be None, 'imagenet' or the path"),
    ],
)
def test_bad_weights_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.ResNet50(**kwargs)


def test_imagenet_for_resnet18_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match=r"no ImageNet weights for resnet18"):
        models.ResNet18(weights="imagenet")


def test_summary_table_counts_blocks_and_macs():
    model = models.cifar_resnet(20, attention="cbam")
    lines = []
    rows = models.summary_table(model, print_fn=lines.append)
    blocks, total = rows[:-1], rows[-1]
    assert len(blocks) == 9
    first = blocks[0]
    assert first["name"] == "conv2_block1_attention"
    assert first["input_shape"] == (None, 32, 32, 16)
    # The papers' convention: the shared MLP (16 -> 1 -> 16) twice and the
    # 7x7 convolution from 2 maps; ours adds two pools, their sum, two
    # channel pools and two rescalings.
    hwc, hw = 32 * 32 * 16, 32 * 32
    assert first["weighted_macs"] == 2 * (2 * 16 * 1) + 98 * hw
    assert first["macs"] == first["weighted_macs"] + 6 * hwc + 2 * 16
    assert total["attention_params"] == sum(b["params"] for b in blocks)
    assert total["params"] == model.count_params()
    baseline = models.summary_table(models.cifar_resnet(20), print_fn=None)[-1]
    # ResNet-20 is about 41M multiply-adds; the blocks are the difference.
    assert 40e6 < baseline["macs"] < 42e6
    assert total["macs"] - baseline["macs"] == total["attention_macs"]
    assert lines[0].split()[:2] == ["layer", "(class)"]
    assert len(lines) == 1 + 9 + 2


def test_summary_table_unknown_size():
    model = models.ResNet18(
        input_shape=(None, None, 3), include_top=False, attention="se"
    )
    total = models.summary_table(model, print_fn=None)[-1]
    assert total["macs"] is None and total["attention_macs"] is None
    assert total["attention_params"] > 0


def test_summary_table_counts_the_bridge_head():
    # head="bridge" used to report the same MACs as head="gap".
    gap = models.summary_table(models.cifar_resnet(20), print_fn=None)
    bridge = models.summary_table(
        models.cifar_resnet(20, head="bridge"), print_fn=None
    )
    head = bridge[0]
    assert (
        head["name"] == "bridge_pool" and head["class"] == "CrossLayerPooling"
    )
    # 19 maps pooled: conv1 and the 6 of stage 2 (32x32x16), 6 in stage 3
    # (16x16x32), 6 in stage 4 (8x8x64); then the linear layer.
    pooled = 7 * 32 * 32 * 16 + 6 * 16 * 16 * 32 + 6 * 8 * 8 * 64
    width = 7 * 16 + 6 * 32 + 6 * 64
    assert head["macs"] == pooled + width * 64
    assert bridge[-1]["attention_macs"] == head["macs"]
    # The bridge replaces the average pool (0 MACs counted); its classifier
    # input is 64 wide as with gap, so the difference is the head itself.
    assert bridge[-1]["macs"] - gap[-1]["macs"] == head["macs"]


def test_summary_table_counts_bridge_attention_blocks():
    rows = models.summary_table(
        models.cifar_resnet(20, attention="ba"), print_fn=None
    )
    assert len(rows) == 10 and all(row["macs"] > 0 for row in rows[:-1])
