"""Debounced, rate-limited timing for the operator: pure bookkeeping over an injected clock.

* :class:`Debouncer` — a namespace whose pods change is written once things settle
  (``quiet`` seconds without change), and at the latest ``longest`` seconds after the
  first change, so a rollout of fifty pods is one write, not fifty.
* :class:`RateLimiter` — at most one event per key per ``period`` (one per workload and
  image digest per hour).
"""

from __future__ import annotations

from collections.abc import Hashable


class Debouncer:
    def __init__(self, quiet: float = 2.0, longest: float = 30.0) -> None:
        self.quiet = quiet
        self.longest = longest
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}

    def touch(self, key: str, now: float) -> None:
        self._first.setdefault(key, now)
        self._last[key] = now

    def due(self, now: float) -> set[str]:
        """Keys ready to be written; they are forgotten until touched again."""
        ready = {
            key
            for key, first in self._first.items()
            if now - self._last[key] >= self.quiet or now - first >= self.longest
        }
        for key in ready:
            del self._first[key]
            del self._last[key]
        return ready


class RateLimiter:
    def __init__(self, period: float = 3600.0, max_keys: int = 100_000) -> None:
        self.period = period
        self._max = max_keys
        self._sent: dict[Hashable, float] = {}

    def allow(self, key: Hashable, now: float) -> bool:
        last = self._sent.get(key)
        if last is not None and now - last < self.period:
            return False
        if len(self._sent) >= self._max:
            self._sent = {k: t for k, t in self._sent.items() if now - t < self.period}
        self._sent[key] = now
        return True
