"""What the registry client did, for tests, benchmarks and metrics.

The client reports every HTTP exchange and every cache lookup to a :class:`RegistryObserver`.
:class:`Counters` is the built-in, thread-safe implementation that tests read; the webhook
can implement the same two methods to feed Prometheus counters, and :class:`Observers`
sends to several at once.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Protocol


class RegistryObserver(Protocol):
    def request(self, host: str, method: str, status: int) -> None:
        """One HTTP exchange; ``status`` is 0 when no response arrived."""

    def cache(self, name: str, hit: bool) -> None:
        """One cache lookup: ``tag``, ``manifest``, ``config``, ``negative``, ``token``,
        ``credential-provider`` or ``credential-helper``."""

    def program(self, name: str, outcome: str) -> None:
        """One run of a credential program (a provider plugin or ``docker-credential-*``):
        ``ok``, ``not-found``, ``error``, ``timeout`` or ``invalid``."""


class Counters:
    """Counts requests by (host, method, status) and cache lookups by (name, hit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()
        self._cache: Counter[tuple[str, bool]] = Counter()
        self._programs: Counter[tuple[str, str]] = Counter()

    def request(self, host: str, method: str, status: int) -> None:
        with self._lock:
            self._requests[(host, method, status)] += 1

    def cache(self, name: str, hit: bool) -> None:
        with self._lock:
            self._cache[(name, hit)] += 1

    def program(self, name: str, outcome: str) -> None:
        with self._lock:
            self._programs[(name, outcome)] += 1

    def runs(self, name: str | None = None, outcome: str | None = None) -> int:
        """Credential program runs matching every given filter."""
        with self._lock:
            return sum(
                n
                for (p, o), n in self._programs.items()
                if (name is None or p == name) and (outcome is None or o == outcome)
            )

    def requests(
        self, host: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        """Requests matching every given filter."""
        with self._lock:
            return sum(
                n
                for (h, m, s), n in self._requests.items()
                if (host is None or h == host)
                and (method is None or m == method)
                and (status is None or s == status)
            )

    def hits(self, name: str) -> int:
        with self._lock:
            return self._cache[(name, True)]

    def misses(self, name: str) -> int:
        with self._lock:
            return self._cache[(name, False)]

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A JSON-friendly copy: ``{"requests": {"host METHOD status": n}, "cache": {...}}``."""
        with self._lock:
            return {
                "requests": {f"{h} {m} {s}": n for (h, m, s), n in sorted(self._requests.items())},
                "cache": {
                    f"{name} {'hit' if hit else 'miss'}": n
                    for (name, hit), n in sorted(self._cache.items())
                },
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._cache.clear()
            self._programs.clear()


class Observers:
    """Fan one stream of events out to several observers."""

    def __init__(self, *observers: RegistryObserver) -> None:
        self._observers = observers

    def request(self, host: str, method: str, status: int) -> None:
        for observer in self._observers:
            observer.request(host, method, status)

    def cache(self, name: str, hit: bool) -> None:
        for observer in self._observers:
            observer.cache(name, hit)

    def program(self, name: str, outcome: str) -> None:
        for observer in self._observers:
            observer.program(name, outcome)
