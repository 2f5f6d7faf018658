"""Transport prefixes, and the router that sends everything else to the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgate.errors import InvalidReference, Unsupported
from slimgate.model import ImageConfig, ImageMetadata, Platform
from slimgate.sources.references import LocalReference, Transport, is_local, parse_local
from slimgate.sources.router import SourceRouter
from tests.support.images import build_image, write_oci_layout

AMD64 = Platform("linux", "amd64")


class FakeRegistry:
    def __init__(self) -> None:
        self.fetched: list[str] = []

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        self.fetched.append(reference)
        return ImageMetadata(
            reference=reference,
            digest="sha256:" + "0" * 64,
            platform=platform,
            media_type="m",
            config_digest="sha256:" + "1" * 64,
            layers=(),
            config=ImageConfig(),
        )


def test_parse_local_references() -> None:
    assert parse_local("nginx:1") is None
    assert parse_local("registry.example:5000/oci:1") is None
    assert parse_local("oci:/tmp/x:v1") == LocalReference(Transport.OCI, Path("/tmp/x"), "v1")
    assert parse_local("oci:./x") == LocalReference(Transport.OCI, Path("x"), None)
    archive = parse_local("docker-archive:/tmp/a.tar:team/app:1")
    assert archive == LocalReference(Transport.DOCKER_ARCHIVE, Path("/tmp/a.tar"), "team/app:1")
    assert parse_local("oci-archive:a.tar") == LocalReference(
        Transport.OCI_ARCHIVE, Path("a.tar"), None
    )
    assert is_local("oci-archive:a.tar")
    assert not is_local("ghcr.io/org/app:1")


def test_existing_path_with_a_colon_is_taken_whole(tmp_path: Path) -> None:
    odd = tmp_path / "build:2024"
    odd.mkdir()
    assert parse_local(f"oci:{odd}") == LocalReference(Transport.OCI, odd, None)


def test_existing_path_with_a_colon_can_still_name_an_image(tmp_path: Path) -> None:
    odd = tmp_path / "build:2024"
    odd.mkdir()
    assert parse_local(f"oci:{odd}:v1") == LocalReference(Transport.OCI, odd, "v1")
    archive = tmp_path / "saved:1.tar"
    archive.write_bytes(b"")
    assert parse_local(f"docker-archive:{archive}:team/app:1") == LocalReference(
        Transport.DOCKER_ARCHIVE, archive, "team/app:1"
    )


@pytest.mark.parametrize("text", ["oci:", "oci::v1", "docker-archive:"])
def test_missing_path_is_a_usage_error(text: str) -> None:
    with pytest.raises(InvalidReference, match="path is missing"):
        parse_local(text)


def test_registry_client_is_made_only_for_registry_references(tmp_path: Path) -> None:
    made: list[FakeRegistry] = []

    def make() -> FakeRegistry:
        made.append(FakeRegistry())
        return made[-1]

    router = SourceRouter(make)
    layout = write_oci_layout(tmp_path / "layout", build_image())
    router.fetch(f"oci:{layout}", AMD64)
    assert made == []
    router.fetch("nginx:1", AMD64)
    router.fetch("ghcr.io/org/app:2", AMD64)
    assert len(made) == 1
    assert made[0].fetched == ["nginx:1", "ghcr.io/org/app:2"]


def test_router_without_a_registry_refuses_registry_references() -> None:
    with pytest.raises(Unsupported, match="registry references are not available"):
        SourceRouter().fetch("nginx:1", AMD64)
