"""Transport-prefixed references: ``oci:PATH[:REF]``, ``oci-archive:PATH[:REF]``,
``docker-archive:PATH[:REF]``.

The syntax is containers/image's (``oci/layout/oci_transport.go``): the path ends at the
first ``:`` after the prefix and the rest names the image inside. Unlike containers/image, a
path that exists as written is taken whole, so paths that contain ``:`` still work.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from slimgate.errors import InvalidReference


class Transport(StrEnum):
    OCI = "oci"
    OCI_ARCHIVE = "oci-archive"
    DOCKER_ARCHIVE = "docker-archive"


@dataclass(frozen=True, slots=True)
class LocalReference:
    """A parsed local reference; ``ref`` names one image when the place holds several."""

    transport: Transport
    path: Path
    ref: str | None

    def __str__(self) -> str:
        suffix = f":{self.ref}" if self.ref else ""
        return f"{self.transport}:{self.path}{suffix}"


def is_local(reference: str) -> bool:
    """True when ``reference`` names a local transport rather than a registry."""
    return any(reference.startswith(f"{t}:") for t in Transport)


def parse_local(reference: str) -> LocalReference | None:
    """Parse a transport-prefixed reference; None for a registry reference."""
    for transport in Transport:
        prefix = f"{transport}:"
        if reference.startswith(prefix):
            break
    else:
        return None
    rest = reference[len(prefix) :]
    if not rest:
        raise InvalidReference(f"invalid reference {reference!r}: the path is missing")
    if Path(rest).exists():
        return LocalReference(transport, Path(rest), None)
    path, _, ref = rest.partition(":")
    if not path:
        raise InvalidReference(f"invalid reference {reference!r}: the path is missing")
    return LocalReference(transport, Path(path), ref or None)
