"""Unique names for objects that tests create in shared places (a session's API server,
a registry), so that tests never see each other's leftovers."""

from __future__ import annotations

import uuid


def fresh(prefix: str) -> str:
    """``prefix`` and six random hex digits: ``fresh("ns")`` -> ``ns-3f9a1c``."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"
