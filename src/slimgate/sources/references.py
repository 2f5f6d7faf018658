"""Transport-prefixed references: ``oci:PATH[:REF]``, ``oci-archive:PATH[:REF]``,
``docker-archive:PATH[:REF]``.

The syntax is containers/image's (``oci/layout/oci_transport.go``): the path ends at the
first ``:`` after the prefix and the rest names the image inside. Unlike containers/image, a
path that exists is preferred (whole, else the longest existing part before a ``:``), so
paths that contain ``:`` still work, with or without a name after them.
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
    transport = next((t for t in Transport if reference.startswith(f"{t}:")), None)
    if transport is None:
        return None
    rest = reference[len(transport) + 1 :]
    if not rest:
        raise InvalidReference(f"invalid reference {reference!r}: the path is missing")
    if Path(rest).exists():
        return LocalReference(transport, Path(rest), None)
    # The longest existing path before a ``:`` wins, so ``oci:build:2024:v1`` names v1 in
    # ``build:2024``; when none exists, the path ends at the first ``:`` as in containers/image.
    cuts = [i for i, char in enumerate(rest) if char == ":"]
    cut = next((i for i in reversed(cuts) if i and Path(rest[:i]).exists()), None)
    if cut is not None:
        return LocalReference(transport, Path(rest[:cut]), rest[cut + 1 :] or None)
    path, _, ref = rest.partition(":")
    if not path:
        raise InvalidReference(f"invalid reference {reference!r}: the path is missing")
    return LocalReference(transport, Path(path), ref or None)
