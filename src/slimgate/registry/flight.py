"""Single-flight: concurrent callers asking for the same thing share one computation.

Fifty pods of one Deployment are admitted at once; without this, a cold cache would send
fifty HEADs for the same tag. The first caller for a key runs the function; the others wait
for its result (or its exception). The leader is bounded by its lookup deadline, so waiters
are too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, Future[T]] = {}
        self._joined: dict[Hashable, int] = {}

    def do(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            future = self._inflight.get(key)
            leader = future is None
            if future is None:
                future = Future()
                self._inflight[key] = future
                self._joined[key] = 0
            else:
                self._joined[key] += 1
        if not leader:
            return future.result()
        try:
            result = fn()
        except BaseException as exc:
            future.set_exception(exc)
            # The traceback keeps this frame: without this, the frame, the future and the
            # exception would keep each other (and whatever the traceback holds) alive
            # until the cyclic garbage collector runs.
            del future
            raise
        else:
            future.set_result(result)
            return result
        finally:
            with self._lock:
                del self._inflight[key]
                del self._joined[key]

    def joined(self, key: Hashable) -> int:
        """How many callers are waiting on the call in flight for ``key``."""
        with self._lock:
            return self._joined.get(key, 0)
