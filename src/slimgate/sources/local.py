"""A local reference (``oci:``, ``oci-archive:``, ``docker-archive:``) -> the reader for it."""

from __future__ import annotations

from contextlib import ExitStack

from slimgate.model import ImageMetadata, Platform
from slimgate.oci.documents import DocumentLimits
from slimgate.sources.docker_archive import read_docker_archive
from slimgate.sources.layout import read_layout
from slimgate.sources.references import LocalReference, Transport
from slimgate.sources.store import DirectoryStore, Store, TarStore


def read_local(
    local: LocalReference, platform: Platform, written: str, limits: DocumentLimits
) -> ImageMetadata:
    """Read the image a local reference names."""
    label = f"{local.transport}:{local.path}"
    with ExitStack() as closing:
        store: Store = (
            DirectoryStore(local.path, label)
            if local.transport is Transport.OCI
            else closing.enter_context(TarStore(local.path, label))
        )
        if local.transport is Transport.DOCKER_ARCHIVE:
            return read_docker_archive(store, local.ref, platform, written, limits)
        return read_layout(store, local.ref, platform, written, limits)
