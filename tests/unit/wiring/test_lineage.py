"""LineageResolver: per-platform resolution, bounded waiting, caching, failures skipped."""

from __future__ import annotations

import hashlib
import logging
import threading

import pytest

from slimgate.analysis.lineage import ToolchainImage
from slimgate.errors import RegistryUnavailable
from slimgate.model import Descriptor, ImageConfig, ImageMetadata, Platform
from slimgate.wiring.lineage import LineageResolver
from tests.support.fixtures import ManualClock

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
GOLANG = ToolchainImage("docker.io/library/golang:1", "toolchain-base", "golang", "go")
JDK = ToolchainImage("docker.io/library/eclipse-temurin:21-jdk", "jdk-runtime", "JDK", "java")
MISSING = ToolchainImage("registry.example/gone:1", "toolchain-base", "gone", "generic")


def metadata(reference: str, platform: Platform) -> ImageMetadata:
    layers = tuple(
        Descriptor(
            "l", "sha256:" + hashlib.sha256(f"{reference} {platform} {i}".encode()).hexdigest(), 1
        )
        for i in range(2)
    )
    return ImageMetadata(
        reference=reference,
        digest="sha256:" + "d" * 64,
        platform=platform,
        media_type="m",
        config_digest="sha256:" + "c" * 64,
        layers=layers,
        config=ImageConfig(),
    )


class Source:
    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[tuple[str, Platform]] = []
        self.gate = gate
        self.lock = threading.Lock()

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        with self.lock:
            self.calls.append((reference, platform))
        if self.gate is not None:
            self.gate.wait(30)
        if reference == MISSING.reference:
            raise RegistryUnavailable("registry.example: connection refused")
        return metadata(reference, platform)


def join_lookups() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("lineage "):
            thread.join(30)


def test_resolves_every_image_for_the_platform_asked() -> None:
    source = Source()
    resolver = LineageResolver(source, [GOLANG, JDK], wait_seconds=30)
    lineage = resolver.lineage_for(ARM64)
    assert [b.reference for b in lineage.bases] == [GOLANG.reference, JDK.reference]
    golang = lineage.bases[0]
    assert (golang.name, golang.rule, golang.ecosystem) == ("golang", "toolchain-base", "go")
    assert golang.layers == tuple(d.digest for d in metadata(GOLANG.reference, ARM64).layers)
    assert golang.digest == "sha256:" + "d" * 64
    assert sorted(source.calls) == sorted([(GOLANG.reference, ARM64), (JDK.reference, ARM64)])


def test_failures_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    resolver = LineageResolver(Source(), [MISSING, GOLANG], wait_seconds=30)
    with caplog.at_level(logging.WARNING, logger="slimgate.lineage"):
        lineage = resolver.lineage_for(AMD64)
    assert [b.reference for b in lineage.bases] == [GOLANG.reference]
    assert "cannot resolve registry.example/gone:1" in caplog.text
    assert "connection refused" in caplog.text


def test_results_are_cached_per_platform_until_the_ttl() -> None:
    clock = ManualClock()
    source = Source()
    resolver = LineageResolver(source, [GOLANG], wait_seconds=30, ttl_seconds=100, clock=clock)
    resolver.lineage_for(AMD64)
    resolver.lineage_for(AMD64)
    assert source.calls == [(GOLANG.reference, AMD64)]
    resolver.lineage_for(ARM64)
    assert source.calls[-1] == (GOLANG.reference, ARM64)
    clock.advance(101)
    resolver.lineage_for(AMD64)
    assert source.calls.count((GOLANG.reference, AMD64)) == 2


def test_failed_images_are_retried_after_the_retry_interval() -> None:
    clock = ManualClock()
    source = Source()
    resolver = LineageResolver(source, [MISSING], wait_seconds=30, retry_seconds=60, clock=clock)
    resolver.lineage_for(AMD64)
    clock.advance(30)
    resolver.lineage_for(AMD64)
    assert len(source.calls) == 1
    clock.advance(31)
    resolver.lineage_for(AMD64)
    assert len(source.calls) == 2


def test_a_slow_registry_does_not_block_beyond_the_wait() -> None:
    gate = threading.Event()
    source = Source(gate)
    resolver = LineageResolver(source, [GOLANG], wait_seconds=0)
    assert resolver.lineage_for(AMD64).bases == ()  # not waited for
    gate.set()
    join_lookups()
    assert [b.reference for b in resolver.lineage_for(AMD64).bases] == [GOLANG.reference]
    assert len(source.calls) == 1  # the late answer was kept, not fetched again


def test_no_images_means_no_lookups() -> None:
    source = Source()
    assert LineageResolver(source, [], wait_seconds=30).lineage_for(AMD64).bases == ()
    assert source.calls == []
