"""One ImageSource for every kind of reference: local transports here, the rest remote.

The registry client is created only when a registry reference is first fetched, so
``slimgate check oci:./layout`` never pays for an HTTP stack it does not use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from slimgate.errors import Unsupported
from slimgate.evaluation import ImageSource
from slimgate.model import ImageMetadata, Platform
from slimgate.oci.documents import DocumentLimits
from slimgate.sources.local import read_local
from slimgate.sources.references import parse_local


class SourceRouter:
    """An ``ImageSource`` that reads local transports itself and passes the rest on.

    ``remote`` builds the registry client on first use (None: registry references are
    refused, for callers that must stay offline).
    """

    def __init__(
        self,
        remote: Callable[[], ImageSource] | None = None,
        limits: DocumentLimits | None = None,
    ) -> None:
        self._make_remote = remote
        self._remote: ImageSource | None = None
        self._lock = threading.Lock()
        self.limits = limits or DocumentLimits()

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
