"""The documentation site builds with `mkdocs build --strict` (a broken
link, a missing page or a docstring reference that does not resolve fails
it), and its API reference holds every public name of every subpackage."""

import importlib
import os
import subprocess
import sys
import zlib

import pytest

from tests.docs.markdown_blocks import REPO

SUBPACKAGES = [
    "layers",
    "models",
    "surgery",
    "data",
    "training",
    "tuning",
    "analysis",
    "plotting",
    "export",
]


def inventory_names(path):
    """Object names of a Sphinx-format objects.inv (mkdocstrings writes
    one): four header lines, then zlib-compressed `name domain:role ...`."""
    raw = path.read_bytes()
    body = raw.split(b"\n", 4)[4]
    lines = zlib.decompress(body).decode().splitlines()
    return {line.split(" ", 1)[0] for line in lines if line}


def public_names():
    names = {"keras_chattn.saving.load_model"}
    for subpackage in SUBPACKAGES:
        module = importlib.import_module(f"keras_chattn.{subpackage}")
        names.update(f"keras_chattn.{subpackage}.{n}" for n in module.__all__)
    return names


@pytest.mark.slow
def test_site_builds_strictly_and_documents_every_public_name(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    site = tmp_path / "site"
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    documented = inventory_names(site / "objects.inv")
    missing = public_names() - documented
    assert not missing, sorted(missing)
