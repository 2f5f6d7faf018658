"""A circuit breaker per registry host, for hosts that keep running out the lookup deadline.

A registry that answers slowly, or drips its answers, costs every lookup its whole deadline
and holds a thread and a connection for that long. After ``limits.breaker_timeouts``
lookups in a row at one host ended that way, the breaker opens: for
``limits.breaker_seconds`` lookups there fail at once, without a connection. Then one trial
lookup is let through (the others still fail fast while it runs): an answer of any kind
closes the breaker, another timeout opens it again. Any answer, even an error status, resets
the count, since the host did answer.

The state is kept for at most :data:`MAX_HOSTS` hosts, the least recently used dropped
first (a dropped host starts again closed).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from slimgate.errors import RegistryUnavailable

MAX_HOSTS = 1024


@dataclass(slots=True)
class _State:
    timeouts: int = 0  # in a row
    open_until: float | None = None
    trial: bool = False  # a trial lookup is running


class Breaker:
    """Counts timeouts per host and refuses lookups to hosts whose breaker is open."""

    def __init__(self, timeouts: int, seconds: float, clock: Callable[[], float]) -> None:
        self._threshold = timeouts
        self._seconds = seconds
        self._clock = clock
        self._hosts: OrderedDict[str, _State] = OrderedDict()
        self._lock = threading.Lock()

    def enter(self, host: str, registry: str) -> None:
        """Allow a lookup to ``host`` or raise :class:`RegistryUnavailable` at once."""
        with self._lock:
            state = self._hosts.get(host)
            if state is None or state.open_until is None:
                return
            self._hosts.move_to_end(host)
            left = state.open_until - self._clock()
            if left <= 0 and not state.trial:
                state.trial = True  # this lookup is the trial
                return
        wait = f"; asked again in {left:.0f} s" if left > 0 else ""
        raise RegistryUnavailable(
            f"{registry}: {host} did not answer within the lookup deadline "
            f"{state.timeouts} times in a row; not asked for now{wait}",
            registry=registry,
        )

    def answered(self, host: str) -> None:
        """``host`` answered (whatever it said): its breaker closes."""
        with self._lock:
            self._hosts.pop(host, None)

    def timed_out(self, host: str) -> None:
        """A lookup at ``host`` ran out its deadline."""
        with self._lock:
            state = self._hosts.pop(host, None) or _State()
            self._hosts[host] = state  # now the most recently used
            while len(self._hosts) > MAX_HOSTS:
                self._hosts.popitem(last=False)
            state.timeouts += 1
            if state.trial or state.timeouts >= self._threshold:
                state.open_until = self._clock() + self._seconds
            state.trial = False

    def is_open(self, host: str) -> bool:
        """True while lookups to ``host`` are refused (for tests and metrics)."""
        with self._lock:
            state = self._hosts.get(host)
            return (
                state is not None
                and state.open_until is not None
                and not (state.open_until <= self._clock() and not state.trial)
            )
