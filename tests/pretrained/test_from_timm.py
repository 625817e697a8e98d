"""from_timm: timm's networks, their weights moved into ours, equal to
timm's outputs; checkpoints that do not fit refused by name."""

import re
import time

import keras
import numpy as np
import pytest

from keras_chattn.models import TIMM_ARCHITECTURES
from keras_chattn.models import CheckpointError
from keras_chattn.models import from_timm
from keras_chattn.models import timm_preprocessing
from tests.pretrained.test_from_timm_arguments import documented_parameters
from tests.pretrained.timm_reference import import_timm

# One network per family: plain, deep stem with average-pool shortcuts,
# tiered stem with SE and groups, the SE authors' basic block, ECA, SK,
# ResNeSt's split attention.
FAST = [
    "resnet18",
    "resnet26d",
    "seresnext26t_32x4d",
    "legacy_seresnet18",
    "ecaresnet26t",
    "skresnet18",
    "resnest14d",
]


BRANCH_BATCHNORM = re.compile(r"^(layer\d\.\d+)\.(?:bn|conv)(\d)(?:\.bn)?$")


def timm_model(name, seed=0):
    """timm's `name` with random weights and BatchNorm statistics, in
    inference mode."""
    timm = import_timm()
    import torch

    torch.manual_seed(seed)
    model = timm.create_model(name, pretrained=False).eval()
    norms = dict(model.named_modules())
    last = {}  # each residual block's last BatchNorm (bn3, or bn2)
    for path in norms:
        match = BRANCH_BATCHNORM.match(path)
        if match and isinstance(norms[path], torch.nn.BatchNorm2d):
            block, index = match.groups()
            if int(index) >= int(last.get(block, ("", "0"))[1]):
                last[block] = (path, index)
    last = {path for path, _ in last.values()}
    with torch.no_grad():
        for path, module in model.named_modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                if path in last:
                    # A residual branch's last BatchNorm small, as trained
                    # networks have it: otherwise 100 random blocks grow
                    # the logits past 1e8 and float32 rounding decides them.
                    module.weight.uniform_(0.0, 0.1)
    return model


def write_checkpoint(model, path):
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path))
    return path


def timm_outputs(model, images, features=False):
    import torch

    with torch.no_grad():
        x = torch.from_numpy(images.transpose(0, 3, 1, 2))
        if features:
            return model.forward_head(model.forward_features(x), True).numpy()
        return model(x).numpy()


def assert_close(got, want):
    tolerance = 1e-4 * max(1.0, float(np.abs(want).max()))
    assert np.abs(got - want).max() <= tolerance, (
        np.abs(got - want).max(),
        tolerance,
    )


def check_parity(name, tmp_path, sizes):
    """Loads timm's `name` into ours; returns the trainable weights, the
    largest difference at each size relative to max(1, largest |logit|)
    and the seconds `from_timm` took."""
    reference = timm_model(name)
    path = write_checkpoint(reference, tmp_path / "model.safetensors")
    started = time.perf_counter()
    model = from_timm(name, path, classifier_activation=None)
    seconds = time.perf_counter() - started
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == sum(p.numel() for p in reference.parameters())
    rng = np.random.default_rng(1)
    differences = []
    for size in sizes:
        images = rng.normal(size=(2, size, size, 3)).astype("float32")
        want = timm_outputs(reference, images)
        got = keras.ops.convert_to_numpy(model(images, training=False))
        assert_close(got, want)
        scale = max(1.0, float(np.abs(want).max()))
        differences.append(float(np.abs(got - want).max()) / scale)
    return trainable, differences, seconds


@pytest.mark.parametrize("name", FAST)
def test_each_family_matches_timm_at_a_small_even_and_odd_size(name, tmp_path):
    check_parity(name, tmp_path, (64, 67))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TIMM_ARCHITECTURES))
def test_every_name_matches_timm_at_224_and_an_odd_size(name, tmp_path):
    trainable, differences, seconds = check_parity(name, tmp_path, (224, 231))
    assert trainable == documented_parameters()[name]  # docs/pretrained.md
    print(f"| {name} | {trainable:,} | {differences[0]:.1e} | "
          f"{differences[1]:.1e} | {seconds:.1f} |")  # fmt: skip


def test_features_without_the_top_match_timm(tmp_path):
    reference = timm_model("seresnext26t_32x4d")
    path = write_checkpoint(reference, tmp_path / "model.safetensors")
    model = from_timm(
        "seresnext26t_32x4d.bt_in1k", path, include_top=False, pooling="avg"
    )
    images = np.random.default_rng(2).normal(size=(2, 96, 96, 3))
    images = images.astype("float32")
    want = timm_outputs(reference, images, features=True)
    assert_close(
        keras.ops.convert_to_numpy(model(images, training=False)), want
    )


def test_preprocessing_takes_0_255_images(tmp_path):
    reference = timm_model("resnet18")
    path = write_checkpoint(reference, tmp_path / "model.safetensors")
    model = from_timm(
        "resnet18", path, include_preprocessing=True, classifier_activation=None
    )
    settings = timm_preprocessing("resnet18")
    images = np.random.default_rng(3).uniform(0, 255, (1, 64, 64, 3))
    images = images.astype("float32")
    normalised = (images / 255.0 - settings["mean"]) / settings["std"]
    want = timm_outputs(reference, normalised.astype("float32"))
    assert_close(
        keras.ops.convert_to_numpy(model(images, training=False)), want
    )


@pytest.fixture(scope="module")
def resnet18_state():
    reference = timm_model("resnet18")
    return {k: v.numpy() for k, v in reference.state_dict().items()}


def save_numpy(state, path):
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, path)
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("layer2.0.conv1.weight"), r"1 weights the "
         r"checkpoint has no key for: conv3_block1_1_conv/kernel"),
        (lambda s: s.update({"layer5.0.conv1.weight": s["conv1.weight"]}),
         r"1 keys with no place in the network: layer5\.0\.conv1\.weight"),
        (lambda s: s.update({"layer1.0.bn1.weight": np.ones(7, "float32")}),
         r"layer1\.0\.bn1\.weight \(7,\) for conv2_block1_1_bn/gamma "
         r"\(64,\)"),
    ],
    ids=["missing", "unexpected", "shape"],
)  # fmt: skip
def test_a_checkpoint_that_does_not_fit_is_refused_by_name(
    resnet18_state, tmp_path, change, message
):
    state = dict(resnet18_state)
    change(state)
    path = save_numpy(state, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match=message) as raised:
        from_timm("resnet18", path)
    assert "Nothing was loaded" in str(raised.value)


def test_another_architecture_is_refused(resnet18_state, tmp_path):
    path = save_numpy(resnet18_state, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match="not a checkpoint of timm's"):
        from_timm("resnet34", path)


def test_a_pytorch_state_dict_loads_like_safetensors(tmp_path):
    import torch

    reference = timm_model("resnet18")
    torch.save(reference.state_dict(), tmp_path / "model.pth")
    model = from_timm("resnet18", tmp_path / "model.pth",
                      classifier_activation=None)  # fmt: skip
    images = np.random.default_rng(4).normal(size=(1, 64, 64, 3))
    images = images.astype("float32")
    assert_close(
        keras.ops.convert_to_numpy(model(images, training=False)),
        timm_outputs(reference, images),
    )


@pytest.mark.slow
@pytest.mark.parametrize("target", ["onnx", "litert"])
def test_a_converted_network_exports(tmp_path, target):
    pytest.importorskip("onnxruntime" if target == "onnx" else "ai_edge_litert")
    from keras_chattn.export import export_model

    reference = timm_model("seresnext26t_32x4d")  # grouped convolutions, SE
    path = write_checkpoint(reference, tmp_path / "model.safetensors")
    model = from_timm(
        "seresnext26t_32x4d",
        path,
        input_shape=(64, 64, 3),
        classifier_activation=None,
    )
    images = np.random.default_rng(5).normal(size=(2, 64, 64, 3))
    suffix = ".onnx" if target == "onnx" else ".tflite"
    report = export_model(
        model,
        tmp_path / f"model{suffix}",
        target,
        check_data=images.astype("float32"),
    )
    assert report.max_abs_diff < 1e-3
