"""Transport-prefixed references: oci:, oci-archive:, docker-archive:."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgate.errors import InvalidReference
from slimgate.sources.references import LocalReference, Transport, is_local, parse_local


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
