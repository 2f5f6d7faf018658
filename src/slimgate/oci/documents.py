"""Manifest, index and config documents: media types, parsing, platform choice, digests.

Pure OCI image-spec code, no I/O (go-containerregistry keeps its ``v1`` apart from
``remote`` the same way): the registry client and the local readers hand bytes in.

Follows the OCI image spec (manifest.md, image-index.md, config.md, descriptor.md) and
Docker's image manifest v2 schema 2 / manifest list, which share the same JSON shape. Schema
1 manifests and anything that is not a container image are refused with
:class:`Unsupported`, and so is anything that does not parse: invalid JSON, JSON nested
deeper than the parser goes, or values of the wrong type, which are read as absent rather
than converted. Attestation entries in an index (platform ``unknown/unknown``, or a
``vnd.docker.reference.type`` annotation, as BuildKit writes them) are never chosen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slimgate.errors import DigestMismatch, InvalidReference, TooLarge, Unsupported
from slimgate.model import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    HistoryEntry,
    ImageConfig,
    Platform,
)
from slimgate.reference import DIGEST_HEX_LENGTHS, validate_digest

ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """Caps on the documents of one image (``registry.limits``), whoever reads them."""

    manifest_bytes: int = 4 * MIB
    config_bytes: int = 4 * MIB
    index_entries: int = 256


@dataclass(frozen=True, slots=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Index:
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)

    def platforms(self) -> list[Platform]:
        return [d.platform for d in self.manifests if d.platform and not is_attestation(d)]


def digest_of(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def verify_digest(body: bytes, expected: str, *, what: str, registry: str) -> None:
    """Raise :class:`DigestMismatch` unless ``body`` hashes to ``expected``."""
    algorithm = expected.partition(":")[0]
    if algorithm not in DIGEST_HEX_LENGTHS:
        raise Unsupported(f"{what}: unsupported digest algorithm in {expected}", registry=registry)
    actual = digest_of(body, algorithm)
    if actual != expected:
        raise DigestMismatch(
            f"{what}: content hashes to {actual}, not {expected}; refusing it",
            registry=registry,
        )


def load_object(body: bytes, what: str, registry: str | None) -> dict[str, Any]:
    """``body`` as a JSON object, or :class:`Unsupported` saying why not."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise Unsupported(f"{what}: JSON nested too deeply", registry=registry) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unsupported(f"{what}: not valid JSON", registry=registry) from exc
    if not isinstance(data, dict):
        raise Unsupported(f"{what}: not a JSON object", registry=registry)
    return data


def _text(value: Any) -> str:
    """``value`` if it is a string, else empty: other JSON types are never converted."""
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> Mapping[Any, Any]:
    """``value`` if it is a JSON object, else empty."""
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): v for k, v in _mapping(value).items() if isinstance(v, str)}


def _descriptor(raw: Any, what: str, registry: str) -> Descriptor:
    if not isinstance(raw, Mapping):
        raise Unsupported(f"{what}: a descriptor is not an object", registry=registry)
    media_type, digest, size = raw.get("mediaType"), raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or type(size) is not int or size < 0:
        raise Unsupported(f"{what}: a descriptor lacks a digest or size", registry=registry)
    try:
        validate_digest(digest)
    except InvalidReference as exc:
        raise Unsupported(f"{what}: {exc}", registry=registry) from None
    platform = None
    raw_platform = raw.get("platform")
    if isinstance(raw_platform, Mapping):
        platform = Platform(
            os=_text(raw_platform.get("os")),
            architecture=_text(raw_platform.get("architecture")),
            variant=_text(raw_platform.get("variant")) or None,
        )
    return Descriptor(
        media_type=_text(media_type),
        digest=digest,
        size=size,
        annotations=_strings(raw.get("annotations")),
        platform=platform,
    )


def parse_document(
    body: bytes,
    content_type: str | None,
    *,
    what: str,
    registry: str,
    max_entries: int,
) -> Manifest | Index:
    """Parse a manifest or an index; ``what`` names it in error messages."""
    data = load_object(body, what, registry)
    header_type = (content_type or "").split(";", 1)[0].strip()
    media_type = _text(data.get("mediaType")) or header_type
    if data.get("schemaVersion") == 1 or media_type in SCHEMA1_TYPES:
        raise Unsupported(
            f"{what}: Docker schema 1 manifests are not supported (deprecated; rebuild and "
            "push the image with a current tool)",
            registry=registry,
        )
    if not media_type:
        media_type = OCI_INDEX if "manifests" in data else OCI_MANIFEST
    if media_type in INDEX_TYPES:
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise Unsupported(f"{what}: index without a manifests list", registry=registry)
        if len(entries) > max_entries:
            raise TooLarge(
                f"{what}: index lists {len(entries)} manifests, more than the limit of "
                f"{max_entries}",
                registry=registry,
            )
        return Index(
            media_type=media_type,
            manifests=tuple(_descriptor(e, what, registry) for e in entries),
            annotations=_strings(data.get("annotations")),
        )
    if media_type in MANIFEST_TYPES:
        layers = data.get("layers")
        if not isinstance(layers, list):
            raise Unsupported(f"{what}: manifest without a layers list", registry=registry)
        return Manifest(
            media_type=media_type,
            config=_descriptor(data.get("config"), what, registry),
            layers=tuple(_descriptor(layer, what, registry) for layer in layers),
            annotations=_strings(data.get("annotations")),
        )
    raise Unsupported(
        f"{what}: unsupported manifest media type {media_type!r} (expected an OCI or Docker "
        "v2 image manifest or index)",
        registry=registry,
    )


def is_attestation(descriptor: Descriptor) -> bool:
    platform = descriptor.platform
    if platform is not None and (platform.os, platform.architecture) == ("unknown", "unknown"):
        return True
    return ATTESTATION_ANNOTATION in descriptor.annotations


def choose_platform(index: Index, platform: Platform, *, what: str, registry: str) -> Descriptor:
    """The index entry that serves ``platform``, skipping attestations."""
    for entry in index.manifests:
        if entry.platform and not is_attestation(entry) and platform.matches(entry.platform):
            return entry
    available = ", ".join(str(p) for p in index.platforms()) or "none"
    raise Unsupported(
        f"{what}: no image for platform {platform}; the index has: {available}",
        registry=registry,
    )


def _string_list(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def parse_config(body: bytes, *, what: str, registry: str) -> ImageConfig:
    """Parse the image config blob (OCI config.md / Docker image JSON)."""
    data = load_object(body, what, registry)
    inner, rootfs = _mapping(data.get("config")), _mapping(data.get("rootfs"))
    raw_history = data.get("history")
    history = tuple(
        HistoryEntry(
            created_by=_text(raw.get("created_by")),
            empty_layer=raw.get("empty_layer") is True,
            created=_text(raw.get("created")) or None,
            comment=_text(raw.get("comment")) or None,
        )
        for raw in (raw_history if isinstance(raw_history, list) else ())
        if isinstance(raw, Mapping)
    )
    return ImageConfig(
        os=_text(data.get("os")) or "linux",
        architecture=_text(data.get("architecture")) or "amd64",
        variant=_text(data.get("variant")) or None,
        env=_string_list(inner.get("Env")),
        labels=_strings(inner.get("Labels")),
        history=history,
        diff_ids=_string_list(rootfs.get("diff_ids")),
        entrypoint=_string_list(inner.get("Entrypoint")),
        cmd=_string_list(inner.get("Cmd")),
        working_dir=_text(inner.get("WorkingDir")),
        user=_text(inner.get("User")),
    )
