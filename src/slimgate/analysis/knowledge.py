"""Everything the analysis is told rather than works out: thresholds and known bases.

A :class:`Knowledge` is built once by a composition root (from configuration, the
resolved lineage and the analysis limits) and passed to
:func:`slimgate.analysis.engine.analyse`. Sizes are compressed bytes as the manifest
reports them; a megabyte here is 10**6 bytes, the unit registries and ``docker`` use when
they print compressed sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slimgate.analysis.limits import Limits
from slimgate.analysis.lineage import Lineage

MEGABYTE = 1_000_000
DEFAULT_LAYER_MEGABYTES = 200
DEFAULT_IMAGE_MEGABYTES = 1000


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Size limits in compressed bytes; a layer or image strictly above one is reported."""

    layer_bytes: int = DEFAULT_LAYER_MEGABYTES * MEGABYTE
    image_bytes: int = DEFAULT_IMAGE_MEGABYTES * MEGABYTE

    @classmethod
    def from_megabytes(cls, layer: float, image: float) -> Thresholds:
        return cls(layer_bytes=int(layer * MEGABYTE), image_bytes=int(image * MEGABYTE))


@dataclass(frozen=True, slots=True)
class Knowledge:
    """Configurable inputs of the analysis."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    lineage: Lineage = field(default_factory=Lineage)
    limits: Limits = field(default_factory=Limits)

    @property
    def layer_bytes(self) -> int:
        return self.thresholds.layer_bytes

    @property
    def image_bytes(self) -> int:
        return self.thresholds.image_bytes

    @classmethod
    def default(cls) -> Knowledge:
        """Default thresholds and no resolved lineage (signatures still apply)."""
        return cls()
