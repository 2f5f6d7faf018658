"""The lookup deadline and the capped body reader.

One image lookup has one total budget (``limits.lookup_seconds``, below the webhook's
``timeoutSeconds``); every request's timeout is what remains of it, and there are no
sleeping retries. Bodies are streamed and reading stops as soon as a cap is passed, whatever
``Content-Length`` claimed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from slimgate.errors import RegistryUnavailable, TooLarge


class Deadline:
    """A point in time after which a lookup gives up."""

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic, *, what: str = ""
    ) -> None:
        self._clock = clock
        self._seconds = seconds
        self._expires = clock() + seconds
        self._what = what

    def remaining(self, *, registry: str | None = None) -> float:
        """Seconds left; raise :class:`RegistryUnavailable` when there are none."""
        left = self._expires - self._clock()
        if left <= 0:
            raise self.exceeded(registry=registry)
        return left

    def exceeded(self, *, registry: str | None = None) -> RegistryUnavailable:
        where = f"{registry}: " if registry else ""
        what = f" reading {self._what}" if self._what else ""
        return RegistryUnavailable(
            f"{where}no answer within the {self._seconds:g} s lookup deadline{what}",
            registry=registry,
        )


def read_capped(
    chunks: Iterable[bytes],
    cap: int,
    *,
    deadline: Deadline,
    what: str,
    registry: str,
) -> bytes:
    """Join ``chunks`` while they fit in ``cap`` bytes and the deadline holds."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > cap:
            raise TooLarge(
                f"{registry}: {what} is larger than the {cap}-byte limit; stopped reading",
                registry=registry,
            )
        deadline.remaining(registry=registry)
    return bytes(buffer)
