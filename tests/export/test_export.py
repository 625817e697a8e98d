"""keras_chattn.export: every block through SavedModel, ONNX and LiteRT.

The default run exports a small network holding each block to the three
float formats, and two blocks to int8 LiteRT. The slow run exports more
blocks to int8 and four blocks (one of each kind of operation: pools and a
7 x 7 convolution, C x C matrix products, resizes, grouped convolutions)
inside a CIFAR ResNet-20 and the small CNN on the shared CIFAR-10 images;
`-m release` (run by hand, not in CI, for time) does every block there.
"""

import keras
import numpy as np
import pytest

import keras_chattn
from keras_chattn.export import ExportError
from keras_chattn.export import ExportMismatchError
from keras_chattn.export import export_model
from keras_chattn.export import load_runtime
from keras_chattn.export import missing_packages
from keras_chattn.export import runtimes
from keras_chattn.models import block_table
from tests.data.shared import DATA
from tests.data.shared import needs_data

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow"
    or any(missing_packages(f) for f in ("onnx", "litert")),
    reason="exports are made on the TensorFlow backend with the export extra",
)

BLOCKS = sorted(keras_chattn.ATTENTION_LAYERS)
FLOAT_FORMATS = ("saved_model", "onnx", "litert")
SUFFIX = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}
SIZE = 16
CHANNELS = 32


def block_layer(name):
    if name == "sk":
        return keras_chattn.layers.SelectiveKernel(CHANNELS, groups=8)
    if name == "splat":
        return keras_chattn.layers.SplitAttention(CHANNELS)
    return keras_chattn.create_attention(name)


def small_network(name):
    """conv -> BN -> ReLU -> block -> conv -> pool -> logits, seeded."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(CHANNELS, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = block_layer(name)(x)
    x = keras.layers.Conv2D(CHANNELS, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name=f"small_{name}")


def images(count=16, size=SIZE, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(count, size, size, 3)).astype("float32")


@pytest.fixture(scope="module")
def networks():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = small_network(name)
        return cache[name]

    return get


# SavedModel export of every layer is part of the layer contract
# (tests/harness.py); here one block checks export_model's SavedModel path.
@pytest.mark.parametrize(
    "block, format",
    [(b, f) for b in BLOCKS for f in ("onnx", "litert")]
    + [("cbam", "saved_model")],
)
def test_every_block_exports_within_1e4(block, format, networks, tmp_path):
    model = networks(block)
    path = tmp_path / f"{block}{SUFFIX[format]}"
    report = export_model(model, path, format, check_data=images())
    assert report.max_abs_diff < 1e-4
    assert report.top1_agreement == 1.0
    assert report.size_bytes > 0
    # The batch dimension stays dynamic: 3 images, after 16 and 1.
    run = load_runtime(format, path)
    batch = images(3, seed=2)
    np.testing.assert_allclose(
        run(batch), model.predict(batch, verbose=0), atol=1e-4
    )


INT8_FAST = ("se", "cbam")
INT8_SLOW = ("c3", "cc", "sk", "triplet")
# Real-image exports in CI's slow run; the other blocks with -m release.
REAL_IMAGE_BLOCKS = ("cbam", "c3", "cc", "sk")


def by_tier(blocks, fast=(), slow=()):
    """Each block as a parameter: default run, slow run, or release run."""
    return [
        b
        if b in fast
        else pytest.param(
            b,
            marks=[pytest.mark.slow]
            + ([] if b in slow else [pytest.mark.release]),
        )
        for b in blocks
    ]


@pytest.mark.parametrize(
    "block", by_tier(BLOCKS, fast=INT8_FAST, slow=INT8_SLOW)
)
def test_int8_litert_runs_with_xnnpack(block, networks, tmp_path):
    model = networks(block)
    report = export_model(
        model,
        tmp_path / "int8.tflite",
        "litert",
        representative_data=images(64, seed=3),
        quantize="int8",
        check_data=images(64),
    )
    float_report = export_model(
        model, tmp_path / "float.tflite", "litert", check_data=images(64)
    )
    # Weights in one byte instead of four, and XNNPACK, not the fallback
    # kernels, ran it; the default min_agreement (0.8) held, and more.
    assert report.size_bytes < 0.6 * float_report.size_bytes
    assert report.runtime == "ai_edge_litert"
    assert report.top1_agreement >= 0.9
    assert 0 < report.max_abs_diff < 0.1


def test_mismatch_raises_with_the_figures(networks, tmp_path):
    model = networks("se")
    with pytest.raises(
        ExportMismatchError, match="differs from the Keras"
    ) as e:
        export_model(
            model,
            tmp_path / "m.tflite",
            "litert",
            check_data=images(),
            tolerance=0.0,  # float32 kernels of another runtime round apart
        )
    assert e.value.report.max_abs_diff >= 0
    assert (tmp_path / "m.tflite").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"format": "tflite"},
            "format must be one of .*Received: format='tflite'",
        ),
        (
            {"format": "onnx", "quantize": "int8", "representative_data": 1},
            "made for LiteRT only",
        ),
        ({"format": "litert", "quantize": "int4"}, "quantize must be None"),
        ({"format": "litert", "quantize": "int8"}, "needs representative_data"),
        ({"format": "litert", "path": "model.lite"}, "must end in '.tflite'"),
        (
            {"format": "onnx", "check_data": np.zeros((0, 16, 16, 3))},
            "holds no images",
        ),
        (
            {"format": "onnx", "min_agreement": 2.0},
            r"min_agreement must be a fraction in \[0, 1\].*=2.0",
        ),
        (
            {"format": "onnx", "min_agreement": "high"},
            r"min_agreement must be a finite number.*'high'",
        ),
        (
            {"format": "onnx", "tolerance": float("nan")},
            r"tolerance must be a finite number.*=nan",
        ),
        (
            {"format": "onnx", "tolerance": -1e-4},
            r"tolerance must be a finite number >= 0",
        ),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message, networks, tmp_path):
    path = tmp_path / kwargs.pop("path", "m.tflite")
    with pytest.raises(ValueError, match=message):
        export_model(networks("se"), path, **kwargs)


def test_missing_package_names_the_extra(monkeypatch, networks, tmp_path):
    monkeypatch.setattr(
        "keras_chattn.export.exporter.missing_packages",
        lambda format: ["onnxruntime"],
    )
    with pytest.raises(ImportError, match=r"keras_chattn\[export\]"):
        export_model(networks("se"), tmp_path / "m.onnx", "onnx")


def test_a_model_with_two_inputs_is_refused(tmp_path):
    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([a, b], keras.layers.Add()([a, b]))
    with pytest.raises(ValueError, match="single-input, single-output"):
        export_model(model, tmp_path / "m.onnx", "onnx")


def test_runtime_names_an_unknown_format():
    with pytest.raises(ValueError, match="Received: format='tensorrt'"):
        runtimes.load_runtime("tensorrt", "m.plan")


@pytest.fixture(scope="module")
def cifar_images():
    x, _ = keras_chattn.data.load_cifar_arrays(
        "cifar10", "test", data_dir=DATA, limit=32, normalized=True
    )
    return x


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize("block", by_tier(BLOCKS, slow=REAL_IMAGE_BLOCKS))
def test_cifar_resnet20_every_format_on_real_images(
    block, cifar_images, tmp_path
):
    keras.utils.set_random_seed(0)
    model = keras_chattn.models.cifar_resnet(
        20, attention=block, classifier_activation=None
    )
    assert_exports_agree(model, FLOAT_FORMATS, cifar_images, tmp_path)


def assert_exports_agree(model, formats, check_data, folder):
    for format in formats:
        report = export_model(
            model,
            folder / f"{model.name}{SUFFIX[format]}",
            format,
            check_data=check_data,
        )
        assert report.max_abs_diff <= 1e-4 * report.output_scale, report


@needs_data
@pytest.mark.slow
def test_int8_file_litert_aborts_on_is_refused_in_a_child(
    cifar_images, tmp_path
):
    # Untrained, seed 0: one BridgeAttention hidden unit (16 channels / 16)
    # never fires on these images, its int8 range is zero, and LiteRT's
    # LOGISTIC kernel aborts the process on loading. export_model loads the
    # file in a child process and raises instead.
    keras.utils.set_random_seed(0)
    model = keras_chattn.models.cifar_resnet(
        20, attention="ba", classifier_activation=None
    )
    with pytest.raises(ExportError, match="zero calibrated range"):
        export_model(
            model,
            tmp_path / "int8.tflite",
            "litert",
            representative_data=cifar_images,
            quantize="int8",
            check_data=cifar_images,
        )


PLAIN_BLOCKS = [
    name
    for name, layer in keras_chattn.ATTENTION_LAYERS.items()
    if block_table.placement_of(layer).kind == "branch"
]


@needs_data
@pytest.mark.slow
@pytest.mark.parametrize(
    "block", by_tier(sorted(PLAIN_BLOCKS), slow=("cbam", "cc", "triplet"))
)
def test_small_cnn_onnx_and_litert(block, cifar_images, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras_chattn.models.small_cnn(
        "cifar10", attention=block, classifier_activation=None
    )
    assert_exports_agree(model, ("onnx", "litert"), cifar_images, tmp_path)
