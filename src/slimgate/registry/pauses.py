"""Registry rate limits: the budget a registry announces, and the pause a 429 asks for.

Docker Hub counts manifest GETs against a pull limit per client address (HEADs are free)
and says where a client stands in every answer: ``ratelimit-limit: 100;w=21600`` and
``ratelimit-remaining: 76;w=21600`` (docs.docker.com, docker-hub/usage/pulls). Those go to
the observer (metrics). A ``429 Too Many Requests`` with ``Retry-After`` pauses that
registry host — not only the image that met it — until then: no request is sent there, and
with a shared store no replica sends one either.

While a host is paused or nearly out of its budget (at most :data:`LOW_FRACTION` of it
left), :meth:`Pauses.holding_back` is true and the client may answer a known tag from a
digest past its TTL, for a bounded grace period, saying so in the decision.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from slimgate.errors import RateLimited
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.shared import SharedCache

LOW_FRACTION = 0.05  # "nearly out of budget": this share of the limit or less remains
MAX_HOSTS = 1024


def header_count(value: str | None) -> int | None:
    """``100;w=21600`` -> 100; None when absent or not a count."""
    if not value:
        return None
    head = value.split(";", 1)[0].strip()
    return int(head) if head.isdigit() else None


class Pauses:
    """Paused hosts (here and, with a shared store, for every replica) and budgets."""

    def __init__(
        self,
        observer: RegistryObserver,
        shared: SharedCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._observer = observer
        self._shared = shared
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        self._budget: dict[str, tuple[int, int]] = {}

    def paused_for(self, host: str) -> float:
        """Seconds ``host`` stays paused (0: it is not)."""
        with self._lock:
            until = self._until.get(host)
            if until is not None and until <= self._clock():
                del self._until[host]
                until = None
        if until is not None:
            return until - self._clock()
        if self._shared is None:
            return 0.0
        seconds = self._shared.paused_for(host)
        if seconds > 0:
            self._remember(host, seconds)
        return seconds

    def check(self, host: str, registry: str) -> None:
        """Raise :class:`RateLimited` at once while ``host`` is paused."""
        seconds = self.paused_for(host)
        if seconds > 0:
            raise RateLimited(
                f"{registry}: not asked: rate limited (HTTP 429), paused for {seconds:.0f} s more",
                registry=registry,
                retry_after=seconds,
            )

    def pause(self, host: str, seconds: float) -> None:
        """``host`` answered 429 with ``Retry-After: seconds``."""
        if seconds <= 0:
            return
        self._remember(host, seconds)
        if self._shared is not None:
            self._shared.pause(host, seconds)

    def answered(self, host: str, headers: Mapping[str, str]) -> None:
        """Read the rate-limit headers of an answer from ``host``, if it sent them."""
        limit = header_count(headers.get("ratelimit-limit"))
        remaining = header_count(headers.get("ratelimit-remaining"))
        if limit is None or remaining is None:
            return
        with self._lock:
            if len(self._budget) >= MAX_HOSTS and host not in self._budget:
                self._budget.clear()
            self._budget[host] = (limit, remaining)
        self._observer.rate_limit(host, limit, remaining)

    def holding_back(self, host: str) -> str | None:
        """Why requests to ``host`` should be spared now (paused, or nearly out of its
        budget), or None."""
        seconds = self.paused_for(host)
        if seconds > 0:
            return f"is rate limited, paused for {seconds:.0f} s more"
        with self._lock:
            limit, remaining = self._budget.get(host, (0, 1))  # none announced: not low
        if remaining <= limit * LOW_FRACTION:
            return f"has {remaining} of {limit} requests left in its rate limit"
        return None

    def _remember(self, host: str, seconds: float) -> None:
        with self._lock:
            if len(self._until) >= MAX_HOSTS and host not in self._until:
                self._until.clear()
            until = self._clock() + seconds
            self._until[host] = max(until, self._until.get(host, 0.0))
