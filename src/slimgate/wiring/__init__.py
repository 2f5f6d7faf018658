"""The one engine assembly (:func:`build_engines`), the lineage resolver and the router of
local references: how every driver turns settings into the engines it evaluates with."""

from __future__ import annotations

from slimgate.wiring.engines import (
    Engines,
    Lineage,
    RegistryFactory,
    build_engines,
    registry_client,
)

__all__ = ["Engines", "Lineage", "RegistryFactory", "build_engines", "registry_client"]
