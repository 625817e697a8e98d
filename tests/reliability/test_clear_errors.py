"""Bad input gets a ValueError naming the argument and the value, before
any backend op runs (each case below once gave a backend traceback, a
misleading message or nothing)."""

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn import data
from keras_chattn import layers
from keras_chattn import models
from keras_chattn import training


def _spatial_layer_on_empty_map(layer_cls, **kwargs):
    layer_cls(**kwargs)(np.zeros((1, 0, 0, 8), "float32"))


CASES = [
    (
        "ResNet18 channels None",
        lambda: models.ResNet18(input_shape=(32, 32, None)),
        r"input_shape.*channels.*known.*Received: input_shape=\(32, 32, None\)",
    ),
    (
        "CifarResNet20 channels None",
        lambda: models.CifarResNet20(input_shape=(32, 32, None)),
        r"input_shape.*channels.*known",
    ),
    (
        "ResNet18 zero channels",
        lambda: models.ResNet18(input_shape=(32, 32, 0)),
        r"input_shape.*positive.*Received: input_shape=\(32, 32, 0\)",
    ),
    (
        "small_cnn channels None",
        lambda: models.small_cnn(input_shape=(32, 32, None)),
        r"channels.*known",
    ),
    (
        "get_model_builder list",
        lambda: models.get_model_builder(["resnet50"]),
        r"model must be one of .*Received: model=\['resnet50'\]",
    ),
    (
        "summary_table of a name",
        lambda: models.summary_table("resnet50"),
        r"model must be a keras.Model.*Received: model='resnet50'",
    ),
    (
        "CifarBatches batch_size None",
        lambda: data.CifarBatches(
            np.zeros((2, 32, 32, 3), "uint8"), np.zeros(2), batch_size=None
        ),
        r"batch_size must be a positive integer. Received: batch_size=None",
    ),
    (
        "SpatialAttention on 0x0",
        lambda: _spatial_layer_on_empty_map(layers.SpatialAttention),
        r"SpatialAttention.*every spatial size .* at least 1.*\(1, 0, 0, 8\)",
    ),
    (
        "CBAM on 0x0",
        lambda: _spatial_layer_on_empty_map(layers.CBAM, reduction=2),
        r"CBAM.*every spatial size .* at least 1",
    ),
    (
        "C3 on 0x0",
        lambda: _spatial_layer_on_empty_map(layers.CrossChannelComm),
        r"CrossChannelComm.*every spatial size .* at least 1",
    ),
    (
        "CrossLayerPooling batch sizes differ",
        lambda: layers.CrossLayerPooling()(
            [
                np.zeros((2, 4, 4, 8), "float32"),
                np.zeros((3, 4, 4, 8), "float32"),
            ]
        ),
        r"batch sizes.*differ.*\[2, 3\]",
    ),
    (
        "SqueezeExcite on integers",
        lambda: layers.SqueezeExcite(reduction=2)(
            np.zeros((1, 4, 4, 8), "int32")
        ),
        r"SqueezeExcite takes floating-point maps.*int32",
    ),
    (
        "SqueezeExcite on C=0",
        lambda: layers.SqueezeExcite()(np.zeros((1, 4, 4, 0), "float32")),
        r"SqueezeExcite needs at least one channel.*\(1, 4, 4, 0\)",
    ),
    (
        "attention_kwargs as a string",
        lambda: models.cifar_resnet(
            20, attention="se", attention_kwargs="reduction=8"
        ),
        r"attention_kwargs must be a dict.*'reduction=8'",
    ),
    (
        "attention_kwargs a string without a block",
        lambda: models.cifar_resnet(20, attention_kwargs="x"),
        r"attention_kwargs must be a dict.*'x'",
    ),
    (
        "attention_kwargs a list without a block",
        lambda: models.ResNet18(attention_kwargs=[1]),
        r"attention_kwargs list needs one entry per stage.*\[1\]",
    ),
    (
        "attention_kwargs without a block",
        lambda: models.cifar_resnet(20, attention_kwargs={"reduction": 8}),
        r"attention is None: there is no block to take them",
    ),
    (
        "attention_kwargs with no stage having a block",
        lambda: models.cifar_resnet(
            20, attention=[None, "none", None], attention_kwargs={"r": 8}
        ),
        r"there is no block to take them",
    ),
    (
        "attention_kwargs a block does not take",
        lambda: models.cifar_resnet(
            20, attention="cbam", attention_kwargs={"bogus": 1}
        ),
        r"attention_kwargs holds arguments that CBAM does not take",
    ),
    (
        "cifar_resnet input_shape an int",
        lambda: models.cifar_resnet(8, input_shape=5),
        r"input_shape must be a tuple of sizes.*input_shape=5",
    ),
    (
        "ResNet18 classes=10**12",
        lambda: models.ResNet18(classes=10**12),
        r"classes must be a positive integer no larger than 1,000,000",
    ),
    (
        "VGG16 classifier_activation='bogus'",
        lambda: models.VGG16(classifier_activation="bogus"),
        r"classifier_activation must be the name of a Keras activation",
    ),
    ("vgg depth [1]", lambda: models.vgg([1]), r"depth must be 16 or 19"),
    (
        "resnet3d depth [1]",
        lambda: models.resnet3d([1]),
        r"depth must be one of \[",
    ),
    (
        "small_cnn base_width=10**12",
        lambda: models.small_cnn(base_width=10**12),
        r"base_width must be a positive integer no larger than 65,536",
    ),
    (
        "summary_table print_fn=3",
        lambda: models.summary_table(models.cifar_resnet(8), print_fn=3),
        r"print_fn must be a callable .*print_fn=3",
    ),
    (
        "attention_maps layers=3",
        lambda: keras_chattn.analysis.attention_maps(
            models.cifar_resnet(8, attention="se"),
            np.zeros((1, 32, 32, 3), "float32"),
            layers=3,
        ),
        r"layers must be None or a list of block names.*layers=3",
    ),
    (
        "load_model path None",
        lambda: keras_chattn.saving.load_model(None),
        r"path must be the path of a .keras file.*path=None",
    ),
    (
        "load_model custom_objects a string",
        lambda: keras_chattn.saving.load_model("m.keras", custom_objects="x"),
        r"custom_objects must be None or a dict.*custom_objects='x'",
    ),
    (
        "resnet('50')",
        lambda: models.resnet("50"),
        r"depth must be one of \[18, 34, 50, 101, 152\].*depth='50'",
    ),
    (
        "cifar_recipe monitor=5",
        lambda: training.cifar_recipe(1, 1, output_dir=None, monitor=5),
        r"monitor must be the name of a logged metric.*monitor=5",
    ),
    (
        "cifar_recipe schedule='linear'",
        lambda: training.cifar_recipe(1, 1, schedule="linear"),
        r"schedule must be one of \['cosine', 'step'\].*schedule='linear'",
    ),
    (
        "hypermodel blocks 'SE'",
        lambda: _hypermodel_blocks(["SE", "Cbam"]),
        None,
    ),
]


def _hypermodel_blocks(blocks):
    pytest.importorskip("keras_tuner")
    from keras_chattn import tuning

    assert tuning.AttentionHyperModel(blocks=blocks).blocks == ["se", "cbam"]


@pytest.mark.parametrize(
    "build, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_clear_error(build, message):
    if message is None:
        build()  # a case-insensitive name works like every other
        return
    with pytest.raises(ValueError, match=message):
        build()


def test_error_comes_before_any_backend_op(monkeypatch):
    # A 0x0 map is refused while the layer builds, not by the backend's
    # reduction: the call never reaches keras.ops.
    called = []
    monkeypatch.setattr(
        keras.ops, "max", lambda *a, **k: called.append("max") or None
    )
    with pytest.raises(ValueError, match="at least 1"):
        _spatial_layer_on_empty_map(layers.SpatialAttention)
    assert not called


def test_keras_chattn_names_stay_case_insensitive():
    assert keras_chattn.get_attention("SE") is keras_chattn.SqueezeExcite


def test_per_stage_kwargs_reach_only_the_stages_with_a_block():
    model = models.cifar_resnet(
        8, attention=["se", None, None], attention_kwargs={"reduction": 4}
    )
    blocks = [layer for layer in model.layers if "attention" in layer.name]
    assert [layer.reduction for layer in blocks] == [4]


def test_a_keras_file_with_an_invalid_argument_names_layer_and_value(
    tmp_path,
):
    # A .keras file whose SE block says reduction=-4 (edited by hand or
    # by a newer version) is refused naming the file, the layer, the
    # argument and the value, not with Keras' generic "could not be
    # deserialized properly".
    import json
    import zipfile

    path = tmp_path / "se.keras"
    models.cifar_resnet(8, attention="se").save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])

    def corrupt(node):
        if isinstance(node, dict):
            if node.get("class_name") == "SqueezeExcite":
                node["config"]["reduction"] = -4
            for value in node.values():
                corrupt(value)
        elif isinstance(node, list):
            for value in node:
                corrupt(value)

    corrupt(config)
    files["config.json"] = json.dumps(config).encode()
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(
        ValueError,
        match=r"bad.keras: The config of layer 'conv2_block1_attention' "
        r"\(SqueezeExcite\) is invalid: reduction must be a positive integer"
        r"\. Received: reduction=-4",
    ):
        keras_chattn.saving.load_model(bad)
