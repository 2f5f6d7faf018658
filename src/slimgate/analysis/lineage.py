"""Layer-digest lineage: recognise a base image because the image starts with its layers.

An image built ``FROM golang:1.22`` begins with exactly the layer digests of that golang
image's manifest (image-spec manifest.md: layers are ordered base first). Drivers resolve
the configured toolchain images through the registry client and pass a :class:`Lineage`
in :class:`~slimgate.analysis.knowledge.Knowledge`; this module is the pure part: the
known bases and the longest-prefix match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slimgate.analysis import rules


@dataclass(frozen=True, slots=True)
class KnownBase:
    """A resolved toolchain image: its layer chain and the rule an image built on it earns.

    ``rule`` is None for a base that is known but clean (a ``-slim`` or ``-jre`` image
    resolved only so the analysis can say where an image's own layers begin).
    """

    name: str  # "golang", "node (full)"
    reference: str  # "docker.io/library/golang:1.22"
    layers: tuple[str, ...]  # layer digests, base first
    rule: str | None = rules.TOOLCHAIN_BASE
    ecosystem: str = "generic"
    digest: str | None = None  # manifest digest, for org.opencontainers.image.base.digest


@dataclass(frozen=True, slots=True)
class ToolchainImage:
    """A well-known toolchain image reference that drivers resolve into a KnownBase."""

    reference: str
    rule: str
    name: str
    ecosystem: str


def _t(reference: str, rule: str, name: str, ecosystem: str) -> ToolchainImage:
    return ToolchainImage(f"docker.io/library/{reference}", rule, name, ecosystem)


TB, FL, JDK, PHP = (
    rules.TOOLCHAIN_BASE,
    rules.FULL_LANGUAGE_BASE,
    rules.JDK_RUNTIME,
    rules.PHP_EXTENSION_TOOLCHAIN,
)

DEFAULT_TOOLCHAIN_IMAGES: tuple[ToolchainImage, ...] = (
    _t("golang:1", TB, "golang", "go"),
    _t("golang:1-alpine", TB, "golang", "go"),
    _t("rust:1", TB, "rust", "rust"),
    _t("rust:1-slim", TB, "rust", "rust"),
    _t("gcc:latest", TB, "gcc", "c"),
    _t("maven:3", TB, "maven", "java"),
    _t("gradle:latest", TB, "gradle", "java"),
    _t("buildpack-deps:latest", TB, "buildpack-deps", "c"),
    _t("buildpack-deps:stable", TB, "buildpack-deps", "c"),
    _t("eclipse-temurin:21-jdk", JDK, "eclipse-temurin JDK", "java"),
    _t("eclipse-temurin:17-jdk", JDK, "eclipse-temurin JDK", "java"),
    _t("eclipse-temurin:25-jdk", JDK, "eclipse-temurin JDK", "java"),
    _t("node:lts", FL, "node (full)", "node"),
    _t("python:3", FL, "python (full)", "python"),
    _t("ruby:3", FL, "ruby (full)", "ruby"),
    _t("php:cli", PHP, "php (cli)", "php"),
    ToolchainImage("mcr.microsoft.com/dotnet/sdk:8.0", TB, "dotnet sdk", "dotnet"),
)


@dataclass(frozen=True, slots=True)
class Lineage:
    """The known bases, matched by layer-digest prefix."""

    bases: tuple[KnownBase, ...] = ()

    @classmethod
    def of(cls, bases: Iterable[KnownBase]) -> Lineage:
        return cls(tuple(bases))

    def match(self, layer_digests: Sequence[str]) -> KnownBase | None:
        """The known base with the longest layer chain that prefixes ``layer_digests``.

        A base matches only when its whole chain is a prefix of the image's layers and the
        chain is not empty. Ties (two references resolving to the same chain) go to the
        first listed.
        """
        best: KnownBase | None = None
        for base in self.bases:
            chain = base.layers
            if not chain or len(chain) > len(layer_digests):
                continue
            if best is not None and len(chain) <= len(best.layers):
                continue
            if tuple(layer_digests[: len(chain)]) == chain:
                best = base
        return best

    def by_digest(self, digest: str) -> KnownBase | None:
        """The known base whose manifest digest is ``digest`` (OCI base.digest annotation)."""
        for base in self.bases:
            if base.digest is not None and base.digest == digest:
                return base
        return None
