"""Command-line values the CLI commands share: ``--platform`` and ``KEY=VALUE`` options."""

from __future__ import annotations

from collections.abc import Sequence

from slimgate.config import Settings
from slimgate.model import Platform


def parse_platforms(texts: Sequence[str] | None, settings: Settings) -> tuple[Platform, ...]:
    """``--platform`` values (deduplicated, in order), else the configured platforms."""
    if not texts:
        return settings.registry.platforms
    return tuple(dict.fromkeys(Platform.parse(text) for text in texts))


def parse_pairs(texts: Sequence[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` option values (``--label``, ``--build-arg``) as a mapping."""
    from slimgate.errors import UsageError

    labels: dict[str, str] = {}
    for text in texts or ():
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid {option} {text!r}: expected KEY=VALUE")
        labels[key] = value
    return labels
