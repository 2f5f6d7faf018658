"""Signature patterns compiled once: each tuple of regular expressions becomes one regex.

Signature tables hold patterns as plain strings (data); rules search them through
:func:`union` so each tuple is compiled once per process, not on every search.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=512)
def union(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex matching where any of ``patterns`` matches (never, if empty)."""
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def search(patterns: tuple[str, ...], text: str) -> bool:
    return union(patterns).search(text) is not None
