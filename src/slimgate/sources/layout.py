"""Read an image from an OCI image layout: ``index.json`` -> [index ->] manifest -> config.

This module finds the ``index.json`` entry a reference names and reads blobs; the walk from
that entry to the image is :func:`slimgate.oci.walk.walk`, the registry client's too.

Follows the OCI image layout spec (image-layout.md): an ``oci-layout`` marker file, an
``index.json`` whose entries may carry ``org.opencontainers.image.ref.name``, and blobs at
``blobs/<algorithm>/<hex>``. Every document read is capped and checked against its digest
and size, as the registry client checks what a registry sends; layer blobs are never opened
and may be absent.
"""

from __future__ import annotations

import contextlib
import json

from slimgate.errors import DigestMismatch, InvalidReference, NotFound, Unsupported
from slimgate.model import INDEX_TYPES, OCI_INDEX, Descriptor, ImageMetadata, Platform
from slimgate.oci.documents import (
    DocumentLimits,
    Index,
    Manifest,
    choose_platform,
    is_attestation,
    parse_document,
    verify_digest,
)
from slimgate.oci.walk import walk
from slimgate.reference import ImageReference, validate_digest
from slimgate.sources.store import Store

REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"  # docker save and containerd write the full name


def blob_name(digest: str) -> str:
    """The path of a blob in a layout; the digest is validated first (no path tricks)."""
    try:
        algorithm, _, hexpart = validate_digest(digest).partition(":")
    except InvalidReference as exc:
        raise Unsupported(str(exc)) from None
    return f"blobs/{algorithm}/{hexpart}"


def read_blob(store: Store, descriptor: Descriptor, cap: int, what: str) -> bytes:
    """A blob's bytes, checked against the descriptor's size and digest."""
    body = store.read(blob_name(descriptor.digest), cap, what)
    if len(body) != descriptor.size:
        raise DigestMismatch(
            f"{store.label}: {what} {descriptor.digest} is {len(body)} bytes, the descriptor "
            f"says {descriptor.size}"
        )
    verify_digest(body, descriptor.digest, what=f"{what} {descriptor.digest}", registry=store.label)
    return body


def check_marker(store: Store, limits: DocumentLimits) -> None:
    """The ``oci-layout`` file must exist and name a version we read (1.x)."""
    try:
        marker = json.loads(store.read("oci-layout", limits.manifest_bytes, "the oci-layout file"))
    except NotFound:
        raise NotFound(f"{store.label}: not an OCI image layout (no oci-layout file)") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Unsupported(f"{store.label}: the oci-layout file is not JSON") from exc
    version = marker.get("imageLayoutVersion") if isinstance(marker, dict) else None
    if not isinstance(version, str) or not version.startswith("1."):
        raise Unsupported(f"{store.label}: unsupported image layout version {version!r}")


def name_forms(text: str) -> set[str]:
    """``text`` and, when it is an image reference, its normalised form."""
    forms = {text}
    with contextlib.suppress(InvalidReference):
        forms.add(str(ImageReference.parse(text)))
    return forms


def _names_of(entry: Descriptor) -> set[str]:
    values = (entry.annotations.get(REF_NAME), entry.annotations.get(IMAGE_NAME))
    return {entry.digest}.union(*(name_forms(value) for value in values if value))


def _display_name(entry: Descriptor) -> str:
    annotations = entry.annotations
    return annotations.get(IMAGE_NAME) or annotations.get(REF_NAME) or entry.digest


def _select(index: Index, ref: str | None, platform: Platform, label: str) -> Descriptor:
    """The ``index.json`` entry meant by ``ref`` (or the only image) for ``platform``."""
    entries = [e for e in index.manifests if not is_attestation(e)]
    if ref is not None:
        wanted = name_forms(ref)
        entries = [e for e in entries if _names_of(e) & wanted]
        if not entries:
            names = sorted(
                e.annotations[REF_NAME] for e in index.manifests if REF_NAME in e.annotations
            )
            known = ", ".join(names) or "none"
            raise NotFound(f"{label}: no image named {ref!r} in index.json (names: {known})")
    if len({e.digest for e in entries}) == 1:
        return entries[0]
    if entries and all(e.platform is not None for e in entries):
        # index.json used as the image index: one entry per platform.
        subset = Index(index.media_type, tuple(entries), index.annotations)
        chosen = choose_platform(subset, platform, what=f"{label} index.json", registry=label)
        entries = [e for e in entries if e.platform is not None and platform.matches(e.platform)]
        if len({e.digest for e in entries}) == 1:
            return chosen
    if not entries:
        raise NotFound(f"{label}: index.json lists no images")
    names = sorted({_display_name(e) for e in entries})
    count = len({e.digest for e in entries})
    raise Unsupported(
        f"{label}: the layout holds {count} images ({', '.join(names)}); name one as PATH:REF"
    )


def read_layout(
    store: Store,
    ref: str | None,
    platform: Platform,
    written: str,
    limits: DocumentLimits,
    *,
    require_marker: bool = True,
) -> ImageMetadata:
    """The metadata of the image ``ref`` names in the layout (the only one when None)."""
    label = store.label
    if require_marker:
        check_marker(store, limits)
    top = parse_document(
        store.read("index.json", limits.manifest_bytes, "index.json"),
        OCI_INDEX,
        what=f"{label} index.json",
        registry=label,
        max_entries=limits.index_entries,
    )
    if not isinstance(top, Index):
        raise Unsupported(f"{label}: index.json is not an image index")
    entry = _select(top, ref, platform, label)
    blobs = LayoutBlobs(store, limits)
    return walk(blobs, entry, platform, written=written, names=(REF_NAME, IMAGE_NAME))


class LayoutBlobs:
    """A layout's blobs, as the documents :func:`walk` reads."""

    def __init__(self, store: Store, limits: DocumentLimits) -> None:
        self.store = store
        self.limits = limits
        self.label = store.label

    def name(self, digest: str) -> str:
        return digest

    def manifest(self, descriptor: Descriptor) -> Manifest | Index:
        kind = "index" if descriptor.media_type in INDEX_TYPES else "manifest"
        body = read_blob(self.store, descriptor, self.limits.manifest_bytes, kind)
        return parse_document(
            body,
            descriptor.media_type,
            what=f"{self.label} {kind} {descriptor.digest}",
            registry=self.label,
            max_entries=self.limits.index_entries,
        )

    def config(self, descriptor: Descriptor) -> bytes:
        return read_blob(self.store, descriptor, self.limits.config_bytes, "config")
