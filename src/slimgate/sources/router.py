"""One ImageSource for every kind of reference: local transports here, the rest remote.

The registry client is created only when a registry reference is first fetched, so
``slimgate check oci:./layout`` never pays for an HTTP stack it does not use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from slimgate.errors import Unsupported
from slimgate.evaluation import ImageSource
from slimgate.model import ImageMetadata, Platform
from slimgate.registry.options import Limits
from slimgate.sources.docker_archive import read_docker_archive
from slimgate.sources.layout import read_layout
from slimgate.sources.store import DirectoryStore, Store, TarStore
from slimgate.sources.transport import LocalReference, Transport, parse_local


def read_local(
    local: LocalReference, platform: Platform, written: str, limits: Limits
) -> ImageMetadata:
    """Read the image a local reference names."""
    label = f"{local.transport}:{local.path}"
    store: Store
    context: AbstractContextManager[object]
    if local.transport is Transport.OCI:
        store = DirectoryStore(local.path, label)
        context = nullcontext()
    else:
        tar = TarStore(local.path, label)
        store, context = tar, tar
    with context:
        if local.transport is Transport.DOCKER_ARCHIVE:
            return read_docker_archive(store, local.ref, platform, written, limits)
        return read_layout(store, local.ref, platform, written, limits)


class SourceRouter:
    """An ``ImageSource`` that reads local transports itself and passes the rest on.

    ``remote`` builds the registry client on first use (None: registry references are
    refused, for callers that must stay offline).
    """

    def __init__(
        self,
        remote: Callable[[], ImageSource] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self._make_remote = remote
        self._remote: ImageSource | None = None
        self._lock = threading.Lock()
        self.limits = limits or Limits()

    def remote(self) -> ImageSource:
        """The registry source, created on first call."""
        with self._lock:
            if self._remote is None:
                if self._make_remote is None:
                    raise Unsupported("registry references are not available here")
                self._remote = self._make_remote()
            return self._remote

    def close(self) -> None:
        """Close the registry client, if one was made."""
        with self._lock:
            remote, self._remote = self._remote, None
        close = getattr(remote, "close", None)
        if callable(close):
            close()

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        local = parse_local(reference)
        if local is None:
            return self.remote().fetch(reference, platform)
        return read_local(local, platform, reference, self.limits)
