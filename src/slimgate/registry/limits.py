"""The lookup deadline, and the latest moment a caller lets its lookups run to.

One image lookup has one total budget (``limits.lookup_seconds``, below the webhook's
``timeoutSeconds``). It bounds the whole exchange, not each step: name resolution, connect,
TLS, every socket read and write of the headers and bodies of every request, redirect and
token fetch (the transport applies what is left to each of them, see
:mod:`slimgate.registry.transport`). There are no sleeping retries.

A caller with a deadline of its own (the webhook answers each review within its
``deadlineSeconds``) runs its lookups inside :func:`lookups_end_by`: a lookup started there
gets the earlier of its own budget and that moment, so nothing it does outlives the review
that asked for it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from slimgate.errors import TimedOut

# The request extension that carries the moment (time.monotonic()) after which the
# transport reads and writes nothing more for that request.
DEADLINE_EXTENSION = "slimgate.deadline"

_CEILING: ContextVar[float | None] = ContextVar("slimgate_lookup_ceiling", default=None)


@contextlib.contextmanager
def lookups_end_by(moment: float) -> Iterator[None]:
    """Lookups started inside end by ``moment`` (a ``time.monotonic()`` value) at the latest."""
    token = _CEILING.set(moment)
    try:
        yield
    finally:
        _CEILING.reset(token)


def ceiling() -> float | None:
    """The moment set by the innermost :func:`lookups_end_by`, if any."""
    return _CEILING.get()


class Deadline:
    """A point in time after which a lookup gives up."""

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic, *, what: str = ""
    ) -> None:
        self._clock = clock
        self._seconds = seconds
        self._expires = clock() + seconds
        self._what = what

    @classmethod
    def for_lookup(cls, seconds: float, *, what: str = "") -> Deadline:
        """``seconds`` from now, or less when :func:`lookups_end_by` set an earlier end."""
        moment = ceiling()
        if moment is not None:
            seconds = min(seconds, max(moment - time.monotonic(), 0.0))
        return cls(seconds, what=what)

    @property
    def seconds(self) -> float:
        """The budget this deadline was given."""
        return self._seconds

    def remaining(self, *, registry: str | None = None) -> float:
        """Seconds left; raise :class:`TimedOut` when there are none."""
        left = self._expires - self._clock()
        if left <= 0:
            raise self.exceeded(registry=registry)
        return left

    def extensions(self, *, registry: str | None = None) -> dict[str, float]:
        """Request extensions that make the transport stop at this deadline."""
        return {DEADLINE_EXTENSION: time.monotonic() + self.remaining(registry=registry)}

    def exceeded(self, *, registry: str | None = None) -> TimedOut:
        where = f"{registry}: " if registry else ""
        what = f" reading {self._what}" if self._what else ""
        budget = f"{self._seconds:.1f}" if self._seconds >= 0.1 else f"{self._seconds:.2f}"
        return TimedOut(
            f"{where}no answer within the {budget} s lookup deadline{what}", registry=registry
        )
