"""examples/timeseries_attention.py on a UCR dataset shipped in aeon."""

import json

import pytest

from tests.examples.scripts import load_example

pytest.importorskip("aeon")  # the test extra installs it (the data)


def test_trains_every_block_and_resumes(tmp_path, capsys):
    example = load_example("timeseries_attention")
    argv = [
        "--datasets", "ItalyPowerDemand", "--blocks", "none,se",
        "--seeds", "1", "--epochs", "2", "--output-dir", str(tmp_path),
    ]  # fmt: skip
    records = example.main(argv)
    assert [r["block"] for r in records] == ["none", "se"]
    for record in records:
        assert 0.0 <= record["accuracy"] <= 1.0
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert [json.loads(line)["block"] for line in lines] == ["none", "se"]
    printed = capsys.readouterr().out
    assert "| ItalyPowerDemand | 96.3 +- 0.4 |" in printed
    # A re-run finds both runs done and trains nothing.
    assert example.main(argv) == records
    assert "seconds" not in capsys.readouterr().out


def test_an_unknown_block_is_refused_before_training(tmp_path):
    example = load_example("timeseries_attention")
    with pytest.raises(ValueError, match=r"Unknown attention block 'sse'"):
        example.main(["--blocks", "sse", "--output-dir", str(tmp_path)])
