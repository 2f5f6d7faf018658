"""The router: local references read from the disk, everything else from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimgate.errors import Unsupported
from slimgate.model import ImageConfig, ImageMetadata, Platform
from slimgate.wiring.router import SourceRouter
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


def test_the_registry_source_is_asked_for_only_for_registry_references(tmp_path: Path) -> None:
    registry = FakeRegistry()
    asked: list[int] = []

    def remote() -> FakeRegistry:
        asked.append(1)
        return registry

    router = SourceRouter(remote)
    layout = write_oci_layout(tmp_path / "layout", build_image())
    router.fetch(f"oci:{layout}", AMD64)
    assert asked == []
    router.fetch("nginx:1", AMD64)
    router.fetch("ghcr.io/org/app:2", AMD64)
    assert registry.fetched == ["nginx:1", "ghcr.io/org/app:2"]


def test_router_without_a_registry_refuses_registry_references() -> None:
    with pytest.raises(Unsupported, match="registry references are not available"):
        SourceRouter().fetch("nginx:1", AMD64)
