"""from_timm's arguments and its download, without torch or the network."""

import pathlib
import re

import pytest

from keras_chattn.models import TIMM_ARCHITECTURES
from keras_chattn.models import CheckpointError
from keras_chattn.models import from_timm
from keras_chattn.models import timm_resnet
from keras_chattn.models import timm_weights
from tests.docs.markdown_blocks import REPO


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be one of .*'resnet18'"):
        from_timm("gcresnet50t", "model.safetensors")


@pytest.mark.parametrize(
    "checkpoint, error, message",
    [
        ("no/such/file.safetensors", FileNotFoundError, "is not a file"),
        ("model.h5", CheckpointError, r"must end in \.safetensors"),
        ("garbage.safetensors", CheckpointError, "not a readable"),
    ],
)
def test_bad_checkpoints_are_named(tmp_path, checkpoint, error, message):
    if not checkpoint.startswith("no/"):
        (tmp_path / checkpoint).write_bytes(b"\x00" * 64)
        checkpoint = tmp_path / checkpoint
    with pytest.raises(error, match=message):
        from_timm("resnet18", checkpoint)


def test_without_a_checkpoint_it_downloads_timms_default_tag(
    monkeypatch, tmp_path
):
    asked = []

    def fake_download(name):
        asked.append(name)
        raise ConnectionError("offline")

    monkeypatch.setattr(timm_weights, "download", fake_download)
    for name in ("seresnet50", "ecaresnet50d.miil_in1k"):
        with pytest.raises(ConnectionError):
            from_timm(name)
    assert asked == ["seresnet50.a1_in1k", "ecaresnet50d.miil_in1k"]


def test_the_hub_download_asks_for_model_safetensors(monkeypatch, tmp_path):
    hub = pytest.importorskip("huggingface_hub")
    calls = []

    def fake_hf_hub_download(repo_id, filename):
        calls.append((repo_id, filename))
        return str(tmp_path / filename)

    monkeypatch.setattr(hub, "hf_hub_download", fake_hf_hub_download)
    path = timm_weights.download("resnet50.a1_in1k")
    assert calls == [("timm/resnet50.a1_in1k", "model.safetensors")]
    assert path == pathlib.Path(tmp_path / "model.safetensors")


def test_every_name_has_a_default_tag():
    assert set(timm_weights.DEFAULT_TAGS) == set(TIMM_ARCHITECTURES)


def test_timm_resnet_at_unknown_size_and_in_both_sizes():
    model = timm_resnet("resnet18", include_top=False, pooling="avg")
    assert model.input_shape == (None, None, None, 3)
    assert model.output_shape == (None, 512)


def documented_parameters():
    """{timm name: parameters} from docs/pretrained.md's table."""
    text = (REPO / "docs" / "pretrained.md").read_text()
    rows = re.findall(r"^\| `([\w]+)` \| `timm_resnet\('\1'\)` \| ([\d,]+) \|",
                      text, flags=re.MULTILINE)  # fmt: skip
    return {name: int(count.replace(",", "")) for name, count in rows}


def test_the_docs_list_every_name():
    assert set(documented_parameters()) == set(TIMM_ARCHITECTURES)
