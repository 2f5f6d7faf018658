"""``docker save`` output, legacy and OCI forms, with and without layer tars."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from slimgate.errors import DigestMismatch, NotFound, Unsupported
from slimgate.model import DOCKER_MANIFEST, ImageMetadata, Platform
from slimgate.oci.documents import DocumentLimits
from slimgate.sources.docker_archive import MISSING_NOTE, UNCOMPRESSED_NOTE
from slimgate.sources.local import read_local
from slimgate.sources.references import parse_local
from tests.support.archives import write_docker_archive
from tests.support.images import ImageSpec, build_image

AMD64 = Platform("linux", "amd64")
SPEC = ImageSpec(
    history=(
        ("/bin/sh -c #(nop) ADD file:abc in / ", 4000),
        ("/bin/sh -c #(nop)  ENV NODE_VERSION=22.1.0", None),
        ("RUN /bin/sh -c npm ci", 2500),
    ),
    env=("NODE_VERSION=22.1.0",),
)


def fetch(reference: str) -> ImageMetadata:
    local = parse_local(reference)
    assert local is not None
    return read_local(local, AMD64, reference, DocumentLimits())


def test_legacy_form_sizes_layers_from_the_tar_members(tmp_path: Path) -> None:
    image = build_image(SPEC)
    archive = write_docker_archive(tmp_path / "save.tar", [(image, ["app:1"])])
    meta = fetch(f"docker-archive:{archive}")
    assert meta.digest is None
    assert meta.media_type == DOCKER_MANIFEST
    assert meta.config_digest == image.config.digest
    diff_ids = json.loads(image.config.data)["rootfs"]["diff_ids"]
    assert [la.digest for la in meta.layers] == diff_ids
    assert [la.size for la in meta.layers] == [len(gzip.decompress(la.data)) for la in image.layers]
    assert meta.notes == (UNCOMPRESSED_NOTE,)
    assert meta.config.env_map()["NODE_VERSION"] == "22.1.0"
    assert meta.layer_history()[1].created_by == "RUN /bin/sh -c npm ci"
    assert meta.platform == AMD64


def test_legacy_form_without_layer_tars_counts_them_as_zero_and_says_so(tmp_path: Path) -> None:
    image = build_image(SPEC)
    archive = write_docker_archive(
        tmp_path / "save.tar", [(image, ["app:1"])], include_layers=False
    )
    meta = fetch(f"docker-archive:{archive}")
    assert [la.size for la in meta.layers] == [0, 0]
    assert meta.compressed_size == 0
    assert meta.notes == (MISSING_NOTE,)


def test_legacy_form_checks_the_config_against_its_name(tmp_path: Path) -> None:
    image = build_image(SPEC)
    archive = write_docker_archive(tmp_path / "save.tar", [(image, ["app:1"])])
    config_name = f"{image.config.digest.split(':', 1)[1]}.json"
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            handle = source.extractfile(member) if member.isfile() else None
            if member.name == config_name and handle is not None:
                data = handle.read().replace(b"22.1.0", b"22.1.1")
                member.size = len(data)
                handle = io.BytesIO(data)
            target.addfile(member, handle)
    with pytest.raises(DigestMismatch, match="config"):
        fetch(f"docker-archive:{tampered}")


def test_legacy_form_with_several_images_needs_a_tag(tmp_path: Path) -> None:
    first, second = build_image(SPEC), build_image(ImageSpec())
    archive = write_docker_archive(
        tmp_path / "save.tar",
        [(first, ["app:1", "registry.example/team/app:1"]), (second, ["busybox:latest"])],
    )
    assert fetch(f"docker-archive:{archive}:app:1").config_digest == first.config.digest
    assert fetch(f"docker-archive:{archive}:busybox").config_digest == second.config.digest
    found = fetch(f"docker-archive:{archive}:docker.io/library/busybox:latest")
    assert found.config_digest == second.config.digest
    with pytest.raises(Unsupported, match="holds 2 images"):
        fetch(f"docker-archive:{archive}")
    with pytest.raises(NotFound, match="no image tagged 'nginx:1'"):
        fetch(f"docker-archive:{archive}:nginx:1")


def test_oci_form_reads_the_layout_inside(tmp_path: Path) -> None:
    image = build_image(SPEC)
    archive = write_docker_archive(
        tmp_path / "save.tar", [(image, ["app:1"])], form="oci", include_layers=False
    )
    meta = fetch(f"docker-archive:{archive}")
    assert meta.digest == image.digest
    assert [la.size for la in meta.layers] == [la.size for la in image.layers]
    assert meta.notes == ()
    assert "io.containerd.image.name" not in meta.annotations
    assert fetch(f"docker-archive:{archive}:app:1").digest == image.digest


def test_oci_form_with_several_images_by_tag(tmp_path: Path) -> None:
    first, second = build_image(SPEC), build_image(ImageSpec())
    archive = write_docker_archive(
        tmp_path / "save.tar", [(first, ["app:1"]), (second, ["busybox:1"])], form="oci"
    )
    assert fetch(f"docker-archive:{archive}:busybox:1").digest == second.digest
    assert fetch(f"docker-archive:{archive}:docker.io/library/app:1").digest == first.digest
    with pytest.raises(Unsupported, match="holds 2 images"):
        fetch(f"docker-archive:{archive}")


def test_archive_without_manifest_json(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    with tarfile.open(path, "w"):
        pass
    with pytest.raises(NotFound, match=r"manifest\.json"):
        fetch(f"docker-archive:{path}")


def test_a_manifest_json_nested_too_deeply_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "deep.tar"
    data = b"[" * 100_000 + b"]" * 100_000
    with tarfile.open(path, "w") as tar:
        member = tarfile.TarInfo("manifest.json")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    with pytest.raises(Unsupported, match="not JSON"):
        fetch(f"docker-archive:{path}")


def test_legacy_form_sizes_a_linked_layer_by_its_target(tmp_path: Path) -> None:
    image = build_image(SPEC)
    first, second = (gzip.decompress(layer.data) for layer in image.layers)
    config_name = f"{image.config.digest.split(':', 1)[1]}.json"
    path = tmp_path / "linked.tar"

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(path, "w") as tar:
        add(tar, config_name, image.config.data)
        add(tar, "aaa/layer.tar", first)
        add(tar, "shared/layer.tar", second)
        link = tarfile.TarInfo("bbb/layer.tar")
        link.type = tarfile.SYMTYPE
        link.linkname = "../shared/layer.tar"
        tar.addfile(link)
        manifest = [
            {
                "Config": config_name,
                "RepoTags": ["x:1"],
                "Layers": ["aaa/layer.tar", "bbb/layer.tar"],
            }
        ]
        add(tar, "manifest.json", json.dumps(manifest).encode())
    meta = fetch(f"docker-archive:{path}")
    assert [layer.size for layer in meta.layers] == [len(first), len(second)]
    assert meta.notes == (UNCOMPRESSED_NOTE,)
