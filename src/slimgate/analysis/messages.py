"""Wording shared by the rules: sizes, shortened commands, messages that fit a warning.

A finding message becomes a Kubernetes admission warning, which the webhook prefixes with
the field path (``spec.containers[0].image: ``); :data:`MESSAGE_BUDGET` keeps the whole
warning under :data:`~slimgate.analysis.findings.MAX_MESSAGE` characters.
"""

from __future__ import annotations

import re

from slimgate.analysis.findings import MAX_MESSAGE

MESSAGE_BUDGET = MAX_MESSAGE - len("spec.containers[0].image: ")
CREATED_BY_LIMIT = 80
_SPACE = re.compile(r"\s+")


def megabytes(size: int) -> str:
    """Compressed bytes as ``"236 MB"`` (10**6 bytes to the megabyte)."""
    value = size / 1_000_000
    if value >= 10:
        return f"{value:.0f} MB"
    if value >= 0.1:
        return f"{value:.1f} MB"
    return f"{size / 1000:.0f} kB"


def shorten(text: str, limit: int = CREATED_BY_LIMIT) -> str:
    """One line, whitespace collapsed, cut to ``limit`` characters with an ellipsis.

    The cut falls at a word boundary (never mid-flag: ``--no-install-recommends`` is shown
    whole or not at all), unless the first word alone is longer than the limit.
    """
    # Only the start shows: collapse a growing prefix until it gives more than the limit
    # (collapsing a prefix gives a prefix of the collapsed whole), not a step of kilobytes.
    size = 4 * limit
    while True:
        line = _SPACE.sub(" ", text[:size]).lstrip()
        if size >= len(text):
            line = line.rstrip()
            break
        if len(line) > limit + 1:
            break
        size *= 4
    if len(line) <= limit:
        return line
    head = line[:limit]  # limit - 1 characters and the one after, to see a boundary there
    space = head.rfind(" ")
    cut = head[:space] if space > 0 else line[: limit - 1]
    return cut.rstrip() + "…"


def fit(*variants: str) -> str:
    """The first variant within the budget, else the last one shortened to fit."""
    for variant in variants:
        line = _SPACE.sub(" ", variant).strip()
        if len(line) <= MESSAGE_BUDGET:
            return line
    return shorten(variants[-1], MESSAGE_BUDGET)


def listing(names: list[str], limit: int = 3) -> str:
    """``"gcc, g++, make (+4)"``."""
    head = ", ".join(names[:limit])
    return head if len(names) <= limit else f"{head} (+{len(names) - limit})"
