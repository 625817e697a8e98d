"""examples/finetune_attention.py on the shared CIFAR-10 files."""

import json

import pytest

from tests.data.shared import DATA
from tests.data.shared import needs_data
from tests.examples.scripts import load_example


@needs_data
def test_pretrain_insert_with_identity_start_and_finetune(tmp_path):
    example = load_example("finetune_attention")
    argv = [
        "--data-dir", str(DATA), "--limit", "64", "--batch-size", "32",
        "--pretrain-epochs", "1", "--epochs", "1", "--attention", "cbam",
        "--identity-start", "--freeze", "batchnorm",
        "--backbone-lr-scale", "0.1", "--output-dir", str(tmp_path),
    ]  # fmt: skip
    summary = example.main(argv)
    # Step 0: the wrapped blocks leave the pretrained network's output.
    assert (
        summary["inserted_test_accuracy"] == summary["pretrained_test_accuracy"]
    )
    assert summary["blocks"] == 9 and summary["epochs"] == 1
    for name in (
        "pretrained.keras",
        "best_model.keras",
        "history.csv",
        "summary.json",
    ):
        assert (tmp_path / name).is_file(), name
    assert (
        json.loads((tmp_path / "config.json").read_text())["attention"]
        == "cbam"
    )


def test_bad_arguments(capsys):
    example = load_example("finetune_attention")
    with pytest.raises(SystemExit):
        example.parse_arguments(["--backbone-lr-scale", "-1"])
    assert "--backbone-lr-scale must be >= 0" in capsys.readouterr().err
