"""The test image builder writes OCI layouts that other tools read."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.images import ImageSpec, build_image, build_index, write_oci_layout


def test_layout_holds_index_manifests_and_configs_but_no_layers_when_asked(tmp_path: Path) -> None:
    index = build_index([build_image(), build_image(ImageSpec(architecture="arm64"))])
    root = write_oci_layout(tmp_path / "layout", index, tag="v1", omit_layers=True)
    assert json.loads((root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    top = json.loads((root / "index.json").read_text())["manifests"][0]
    assert top["digest"] == index.digest
    assert top["annotations"]["org.opencontainers.image.ref.name"] == "v1"
    blobs = {p.name for p in (root / "blobs" / "sha256").iterdir()}
    for image in index.images[:2]:
        assert image.manifest.digest.split(":")[1] in blobs
        assert image.config.digest.split(":")[1] in blobs
        assert not any(layer.digest.split(":")[1] in blobs for layer in image.layers)


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_skopeo_reads_the_layout(tmp_path: Path) -> None:
    image = build_image(ImageSpec(env=["FROM_LAYOUT=1"]))
    root = write_oci_layout(tmp_path / "layout", image, tag="v1")
    out = subprocess.run(
        ["skopeo", "inspect", "--config", f"oci:{root}:v1"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert "FROM_LAYOUT=1" in json.loads(out)["config"]["Env"]
