"""One ImageSource for every kind of reference: local transports here, the rest remote.

``slimgate check`` reads ``oci:``, ``oci-archive:`` and ``docker-archive:`` references from
the disk and the rest from registries. The registry client is asked for only when a
registry reference is fetched (it may be made then: ``build_engines(connect="lazy")``), so
``slimgate check oci:./layout`` never pays for an HTTP stack it does not use.
"""

from __future__ import annotations

from collections.abc import Callable

from slimgate.errors import Unsupported
from slimgate.evaluation import ImageSource
from slimgate.model import ImageMetadata, Platform
from slimgate.oci.documents import DocumentLimits
from slimgate.sources.local import read_local
from slimgate.sources.references import parse_local


class SourceRouter:
    """An ``ImageSource`` that reads local transports itself and passes the rest on.

    ``remote`` gives the registry source (None: registry references are refused, for
    callers that must stay offline).
    """

    def __init__(
        self,
        remote: Callable[[], ImageSource] | None = None,
        limits: DocumentLimits | None = None,
    ) -> None:
        self._remote = remote
        self.limits = limits or DocumentLimits()

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        local = parse_local(reference)
        if local is not None:
            return read_local(local, platform, reference, self.limits)
        if self._remote is None:
            raise Unsupported("registry references are not available here")
        return self._remote().fetch(reference, platform)
