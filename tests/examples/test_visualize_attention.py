"""examples/visualize_attention.py makes its gallery from a saved model."""

import pytest

from keras_chattn import models
from tests.data.shared import DATA
from tests.data.shared import needs_data
from tests.examples.scripts import load_example


@needs_data
def test_gallery_of_a_cc_and_a_plain_model(tmp_path):
    pytest.importorskip("matplotlib")
    example = load_example("visualize_attention")
    cc = tmp_path / "cc.keras"
    models.cifar_resnet(8, attention="cc").save(cc)
    plain = tmp_path / "plain.keras"
    models.cifar_resnet(8).save(plain)
    argv = [
        "--data-dir", str(DATA), "--model-path", str(cc),
        "--compare-path", str(plain), "--limit", "40", "--images", "2",
        "--output-dir", str(tmp_path / "gallery"),
    ]  # fmt: skip
    pictures, spread = example.main(argv)
    assert pictures == ["spatial_maps.png", "cc_excitation.png", "grad_cam.png"]
    index = (tmp_path / "gallery" / "index.html").read_text()
    assert all(f'src="{p}"' in index for p in pictures)
    for picture in pictures:
        assert (tmp_path / "gallery" / picture).stat().st_size < 200_000
