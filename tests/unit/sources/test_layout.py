"""OCI image layouts and oci-archive: selection, platforms, caps and digest checks."""

from __future__ import annotations

import gc
import json
import tarfile
import warnings
from pathlib import Path

import pytest

from slimgate.errors import DigestMismatch, NotFound, TooLarge, Unsupported
from slimgate.model import OCI_MANIFEST, ImageMetadata, Platform
from slimgate.oci.documents import DocumentLimits
from slimgate.sources.local import read_local
from slimgate.sources.references import parse_local
from tests.support.archives import tar_layout, write_oci_archive
from tests.support.images import (
    BuiltImage,
    ImageSpec,
    build_image,
    build_index,
    write_oci_layout,
)

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
GOLANG = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:abc in / ", 3000),
        ("/bin/sh -c #(nop)  ENV GOLANG_VERSION=1.23.1", None),
        ("RUN /bin/sh -c go build -o /app .", 1000),
    ),
    env=("GOLANG_VERSION=1.23.1", "PATH=/usr/local/go/bin:/usr/bin"),
    labels={"team": "web"},
)


def fetch(
    reference: str, platform: Platform = AMD64, limits: DocumentLimits | None = None
) -> ImageMetadata:
    local = parse_local(reference)
    assert local is not None
    return read_local(local, platform, reference, limits or DocumentLimits())


def test_reads_manifest_and_config_without_layer_blobs(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image, omit_layers=True)
    assert not any((layout / "blobs" / "sha256" / la.digest[7:]).exists() for la in image.layers)
    meta = fetch(f"oci:{layout}")
    assert meta.reference == f"oci:{layout}"
    assert meta.digest == image.digest
    assert meta.media_type == OCI_MANIFEST
    assert meta.config_digest == image.config.digest
    assert [la.size for la in meta.layers] == [la.size for la in image.layers]
    assert meta.compressed_size == sum(la.size for la in image.layers)
    assert meta.platform == AMD64
    assert meta.config.env_map()["GOLANG_VERSION"] == "1.23.1"
    assert meta.config.labels == {"team": "web"}
    assert [h.created_by for h in meta.config.history][2] == "RUN /bin/sh -c go build -o /app ."
    assert meta.layer_history()[1].created_by == "RUN /bin/sh -c go build -o /app ."
    assert meta.index_digest is None
    assert meta.notes == ()


def test_ref_name_selects_the_image(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", build_image(GOLANG), tag="v1")
    assert fetch(f"oci:{layout}:v1").digest is not None
    with pytest.raises(NotFound, match=r"no image named .v2.*names: v1"):
        fetch(f"oci:{layout}:v2")


def _add_entry(layout: Path, image: BuiltImage, tag: str) -> None:
    """Put a second image into a layout under another ref name."""
    other = write_oci_layout(layout.with_name("other"), image, tag=tag)
    for blob in (other / "blobs" / "sha256").iterdir():
        (layout / "blobs" / "sha256" / blob.name).write_bytes(blob.read_bytes())
    index = json.loads((layout / "index.json").read_text())
    index["manifests"] += json.loads((other / "index.json").read_text())["manifests"]
    (layout / "index.json").write_text(json.dumps(index))


def test_layout_with_several_images_needs_a_ref(tmp_path: Path) -> None:
    first, second = build_image(GOLANG), build_image(ImageSpec())
    layout = write_oci_layout(tmp_path / "layout", first, tag="golang")
    _add_entry(layout, second, "small")
    assert fetch(f"oci:{layout}:golang").digest == first.digest
    assert fetch(f"oci:{layout}:small").digest == second.digest
    assert fetch(f"oci:{layout}:{second.digest}").digest == second.digest
    with pytest.raises(Unsupported, match=r"holds 2 images.*golang, small"):
        fetch(f"oci:{layout}")


def test_index_is_resolved_for_the_requested_platform(tmp_path: Path) -> None:
    amd = build_image(GOLANG)
    arm = build_image(ImageSpec(architecture="arm64", variant="v8"))
    index = build_index([amd, arm])  # plus an attestation manifest, never chosen
    layout = write_oci_layout(tmp_path / "layout", index)
    on_amd = fetch(f"oci:{layout}", AMD64)
    on_arm = fetch(f"oci:{layout}", ARM64)
    assert (on_amd.digest, on_amd.index_digest) == (amd.digest, index.digest)
    assert on_arm.digest == arm.digest
    assert on_arm.platform == Platform("linux", "arm64", "v8")
    with pytest.raises(Unsupported, match="no image for platform linux/s390x"):
        fetch(f"oci:{layout}", Platform("linux", "s390x"))


def test_platform_entries_directly_in_index_json(tmp_path: Path) -> None:
    amd, arm = build_image(GOLANG), build_image(ImageSpec(architecture="arm64"))
    layout = write_oci_layout(tmp_path / "layout", amd, tag=None)
    _add_entry(layout, arm, "ignored")
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["platform"] = {"os": "linux", "architecture": "amd64"}
    index["manifests"][1]["platform"] = {"os": "linux", "architecture": "arm64"}
    del index["manifests"][1]["annotations"]
    (layout / "index.json").write_text(json.dumps(index))
    assert fetch(f"oci:{layout}", ARM64).digest == arm.digest
    assert fetch(f"oci:{layout}", AMD64).digest == amd.digest


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def test_tampered_manifest_is_a_digest_mismatch(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image)
    path = _blob(layout, image.digest)
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01  # same size, different bytes
    path.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch, match="manifest"):
        fetch(f"oci:{layout}")


def test_tampered_config_is_a_digest_mismatch(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image)
    path = _blob(layout, image.config.digest)
    path.write_bytes(path.read_bytes().replace(b"1.23.1", b"1.23.2"))
    with pytest.raises(DigestMismatch, match="config"):
        fetch(f"oci:{layout}")


def test_blob_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image)
    path = _blob(layout, image.config.digest)
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(DigestMismatch, match="bytes"):
        fetch(f"oci:{layout}")


def test_missing_config_blob(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image)
    _blob(layout, image.config.digest).unlink()
    with pytest.raises(NotFound, match="config is missing"):
        fetch(f"oci:{layout}")


def test_documents_over_the_caps_are_refused(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image)
    with pytest.raises(TooLarge, match="manifest"):
        fetch(f"oci:{layout}", limits=DocumentLimits(manifest_bytes=image.manifest.size - 1))
    with pytest.raises(TooLarge, match="config"):
        fetch(f"oci:{layout}", limits=DocumentLimits(config_bytes=image.config.size - 1))


def test_index_entries_over_the_cap(tmp_path: Path) -> None:
    images = [build_image(ImageSpec(architecture=a)) for a in ("amd64", "arm64", "s390x")]
    layout = write_oci_layout(tmp_path / "layout", build_index(images))
    with pytest.raises(TooLarge, match="more than the limit of 2"):
        fetch(f"oci:{layout}", limits=DocumentLimits(index_entries=2))


def test_digest_cannot_escape_the_layout(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", build_image(GOLANG))
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:../../../etc/passwd"
    (layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(Unsupported, match="digest"):
        fetch(f"oci:{layout}")


def test_directory_without_oci_layout_marker(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", build_image(GOLANG))
    (layout / "oci-layout").unlink()
    with pytest.raises(NotFound, match="not an OCI image layout"):
        fetch(f"oci:{layout}")


@pytest.mark.parametrize("name", ["oci-layout", "index.json"])
def test_json_nested_too_deeply_is_unsupported(tmp_path: Path, name: str) -> None:
    layout = write_oci_layout(tmp_path / "layout", build_image(GOLANG))
    (layout / name).write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(Unsupported, match=r"not JSON|nested too deeply"):
        fetch(f"oci:{layout}")


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="not a directory"):
        fetch(f"oci:{tmp_path / 'nowhere'}")


def test_oci_archive_reads_like_the_layout(tmp_path: Path) -> None:
    amd = build_image(GOLANG)
    index = build_index([amd, build_image(ImageSpec(architecture="arm64"))])
    archive = write_oci_archive(tmp_path / "image.tar", index, tag="1.0")
    from_archive = fetch(f"oci-archive:{archive}")
    from_layout = fetch(f"oci:{tmp_path / 'image.tar.layout'}")
    assert from_archive.digest == from_layout.digest == amd.digest
    assert from_archive.layers == from_layout.layers
    assert from_archive.config == from_layout.config
    assert fetch(f"oci-archive:{archive}:1.0", ARM64).platform == ARM64


def test_oci_archive_checks_digests(tmp_path: Path) -> None:
    image = build_image(GOLANG)
    layout = write_oci_layout(tmp_path / "layout", image)
    _blob(layout, image.config.digest).write_bytes(image.config.data.replace(b"1.23.1", b"1.23.9"))
    archive = tar_layout(layout, tmp_path / "tampered.tar")
    with pytest.raises(DigestMismatch, match="config"):
        fetch(f"oci-archive:{archive}")


def test_not_a_tar(tmp_path: Path) -> None:
    path = tmp_path / "junk.tar"
    path.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(Unsupported, match="not a readable tar"):
        fetch(f"oci-archive:{path}")


def test_a_truncated_archive_is_refused_and_closed(tmp_path: Path) -> None:
    archive = write_oci_archive(tmp_path / "image.tar", build_image(GOLANG))
    with tarfile.open(archive) as tar:
        second = tar.getmembers()[1]
    truncated = tmp_path / "truncated.tar"  # opens (first member whole), then ends mid-member
    truncated.write_bytes(archive.read_bytes()[: second.offset_data + second.size // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Unsupported, match="not a readable tar"):
            fetch(f"oci-archive:{truncated}")
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
