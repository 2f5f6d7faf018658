"""Read an image from ``docker save`` output, in either of the forms Docker writes.

- Docker 25 and later put an OCI image layout in the tar (``oci-layout``, ``index.json``,
  ``blobs/``) next to the legacy ``manifest.json``; it is read as a layout, so the manifest
  digest and the layer sizes are known.
- Older Docker writes only ``manifest.json`` (``[{"Config": "<id>.json", "RepoTags": [...],
  "Layers": ["<id>/layer.tar", ...]}]``, see moby's ``image/tarexport``). There is no
  manifest, so the digest is unknown; layers are named by the config's ``diff_ids`` and
  sized by their tar members (uncompressed sizes), or counted as 0 when the archive holds
  no layer tars. Either approximation is stated in the metadata's ``notes``.

The config is checked against the digest its file name carries.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slimgate.errors import NotFound, Unsupported
from slimgate.model import DOCKER_CONFIG, DOCKER_MANIFEST, Descriptor, ImageMetadata, Platform
from slimgate.oci.documents import DocumentLimits, Manifest, parse_config, verify_digest
from slimgate.oci.walk import image_metadata
from slimgate.sources.layout import name_forms, read_layout
from slimgate.sources.store import Store

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
_CONFIG_NAME = re.compile(r"^(?:blobs/sha256/)?([a-f0-9]{64})(?:\.json)?$")

UNCOMPRESSED_NOTE = (
    "layer sizes are the uncompressed tar sizes in the archive, larger than a registry's "
    "compressed sizes"
)
MISSING_NOTE = "the archive holds no layer tars: layer sizes are unknown and counted as 0"


def _entries(store: Store, limits: DocumentLimits) -> list[dict[str, Any]]:
    body = store.read("manifest.json", limits.manifest_bytes, "manifest.json")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Unsupported(f"{store.label}: manifest.json is not JSON") from exc
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise Unsupported(f"{store.label}: manifest.json is not a list of images")
    if len(data) > limits.index_entries:
        raise Unsupported(f"{store.label}: manifest.json lists {len(data)} images, over the limit")
    return data


def _tags(entry: dict[str, Any]) -> set[str]:
    tags = [tag for tag in entry.get("RepoTags") or [] if isinstance(tag, str)]
    return set[str]().union(*map(name_forms, tags))


def _select(entries: list[dict[str, Any]], ref: str | None, label: str) -> dict[str, Any]:
    if ref is not None:
        entries = [e for e in entries if _tags(e) & name_forms(ref)]
        if not entries:
            raise NotFound(f"{label}: no image tagged {ref!r} in the archive")
    if len(entries) == 1:
        return entries[0]
    if not entries:
        raise NotFound(f"{label}: the archive holds no images")
    raise Unsupported(
        f"{label}: the archive holds {len(entries)} images; name one as "
        "docker-archive:PATH:REPO:TAG"
    )


def read_docker_archive(
    store: Store, ref: str | None, platform: Platform, written: str, limits: DocumentLimits
) -> ImageMetadata:
    """The metadata of the image in a ``docker save`` tar (``ref``: one of its RepoTags)."""
    if store.size("index.json") is not None:
        return read_layout(store, ref, platform, written, limits, require_marker=False)
    entry = _select(_entries(store, limits), ref, store.label)
    return _read_legacy(store, entry, written, limits)


def _read_legacy(
    store: Store, entry: dict[str, Any], written: str, limits: DocumentLimits
) -> ImageMetadata:
    label = store.label
    config_name = entry.get("Config")
    if not isinstance(config_name, str):
        raise Unsupported(f"{label}: manifest.json entry without a Config")
    named = _CONFIG_NAME.match(config_name)
    if named is None:
        raise Unsupported(f"{label}: config file {config_name!r} does not carry its digest")
    body = store.read(config_name, limits.config_bytes, "config")
    config_digest = f"sha256:{named.group(1)}"
    verify_digest(body, config_digest, what=f"{label}: config {config_name}", registry=label)
    config = parse_config(body, what=f"{label} config", registry=label)
    layer_names = [n for n in entry.get("Layers") or [] if isinstance(n, str)]
    if len(layer_names) != len(config.diff_ids):
        raise Unsupported(
            f"{label}: manifest.json lists {len(layer_names)} layers, the config "
            f"{len(config.diff_ids)} diff_ids"
        )
    sizes = [store.size(name) for name in layer_names]
    notes = [UNCOMPRESSED_NOTE] if any(s is not None for s in sizes) else []
    if any(s is None for s in sizes):
        notes.append(MISSING_NOTE)
    layers = tuple(
        Descriptor(media_type=DOCKER_LAYER, digest=diff_id, size=size or 0)
        for diff_id, size in zip(config.diff_ids, sizes, strict=True)
    )
    # The legacy form has no manifest; manifest.json's entry stands in for one.
    config_descriptor = Descriptor(DOCKER_CONFIG, config_digest, len(body))
    manifest = Manifest(DOCKER_MANIFEST, config_descriptor, layers)
    return image_metadata(written, None, manifest, config, notes=tuple(notes))
