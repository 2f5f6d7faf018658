"""The webhook's image lookups: one shared pool of threads, shared fairly between registries.

Every review's lookups run on one thread pool. A registry that answers slowly, or drips
its answers, keeps a thread busy for each of its lookups until the review's deadline: one
pod naming forty images there would take every thread, and the images of healthy
registries in other reviews would wait behind them until their own deadline passed. So at
most ``per_registry`` lookups per registry host run at once (``registry.limits.
lookupsPerRegistry``), and no more than ``threads`` in all. Lookups that cannot start wait
in their registry's own queue, holding no thread. When a thread comes free it goes to the
registry that has the fewest lookups running and, among equals, was served least recently,
so a registry with nothing in flight is served next even while many slow registries each
hold a few threads. Lookups whose review stopped waiting for them are dropped unrun. Each
lookup runs inside :func:`slimgate.registry.limits.lookups_end_by` with its review's
deadline, so none outlives the review that asked for it.

The limit is per registry host as written in the image reference: names that resolve to
one address are separate registries here.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slimgate.errors import InvalidReference
from slimgate.reference import ImageReference
from slimgate.registry.limits import lookups_end_by

T = TypeVar("T")


def registry_of(image: str) -> str:
    """The registry host an image reference names ("" when it does not parse)."""
    try:
        return ImageReference.parse(image).registry
    except InvalidReference:
        return ""


@dataclass(frozen=True, slots=True)
class _Task(Generic[T]):
    future: Future[T]
    deadline: float  # time.monotonic()
    call: Callable[..., T]
    args: tuple[Any, ...]
    order: int  # when it was submitted, for first-come among equals


class LookupPool:
    """Runs lookups on ``executor``: at most ``per_registry`` per registry and ``threads``
    in all at once, the next free thread going to the least busy registry.

    ``threads`` should be the executor's own number of threads: the pool then never hands
    the executor more than it can run, so nothing queues inside the executor, where it
    would be served first come, first served.
    """

    def __init__(self, executor: Executor, per_registry: int, threads: int) -> None:
        self._executor = executor
        self._per_registry = per_registry
        self._threads = threads
        self._lock = threading.Lock()
        self._order = itertools.count()
        self._running: dict[str, int] = {}
        self._running_total = 0
        self._served: dict[str, int] = {}  # registry -> when one of its lookups last started
        self._waiting: dict[str, deque[_Task[Any]]] = {}

    def resize(self, per_registry: int) -> None:
        """Use a new limit from now on (a reloaded configuration)."""
        with self._lock:
            self._per_registry = per_registry
            ready = self._ready()
        self._start(ready)

    def submit(
        self, registry: str, deadline: float, call: Callable[..., T], *args: Any
    ) -> Future[T]:
        """Run ``call(*args)`` for an image of ``registry``, ending by ``deadline``.

        ``deadline`` is a ``time.monotonic()`` value. Cancel the future to drop a lookup
        that has not started.
        """
        with self._lock:
            task: _Task[T] = _Task(Future(), deadline, call, args, next(self._order))
            self._waiting.setdefault(registry, deque()).append(task)
            ready = self._ready()
        self._start(ready)
        return task.future

    def running(self, registry: str) -> int:
        """Lookups of ``registry`` holding a thread (or about to)."""
        with self._lock:
            return self._running.get(registry, 0)

    def waiting(self, registry: str) -> int:
        """Lookups of ``registry`` queued behind a limit, cancelled ones included."""
        with self._lock:
            return len(self._waiting.get(registry, ()))

    def _ready(self) -> list[tuple[str, _Task[Any]]]:
        """Take the lookups that may start now off their queues (called under the lock)."""
        ready: list[tuple[str, _Task[Any]]] = []
        while self._running_total < self._threads:
            best: tuple[int, int, int, str] | None = None
            for registry in list(self._waiting):
                queue = self._waiting[registry]
                while queue and queue[0].future.cancelled():
                    queue.popleft()
                if not queue:
                    del self._waiting[registry]
                    if registry not in self._running:
                        self._served.pop(registry, None)
                    continue
                running = self._running.get(registry, 0)
                if running >= self._per_registry:
                    continue
                rank = (running, self._served.get(registry, -1), queue[0].order, registry)
                if best is None or rank < best:
                    best = rank
            if best is None:
                break
            registry = best[3]
            queue = self._waiting[registry]
            ready.append((registry, queue.popleft()))
            self._served[registry] = next(self._order)
            if not queue:
                del self._waiting[registry]
            self._running[registry] = self._running.get(registry, 0) + 1
            self._running_total += 1
        return ready

    def _start(self, ready: list[tuple[str, _Task[Any]]]) -> None:
        pending = deque(ready)
        while pending:
            registry, task = pending.popleft()
            try:
                self._executor.submit(self._run, registry, task)
            except RuntimeError as exc:  # the executor is shut down: nothing more will run
                if task.future.set_running_or_notify_cancel():
                    task.future.set_exception(exc)
                pending.extend(self._free(registry))

    def _run(self, registry: str, task: _Task[Any]) -> None:
        try:
            if not task.future.set_running_or_notify_cancel():
                return  # its review stopped waiting for it before it started
            try:
                with lookups_end_by(task.deadline):
                    result = task.call(*task.args)
            except BaseException as exc:  # noqa: BLE001 - handed to the review that waits
                task.future.set_exception(exc)
            else:
                task.future.set_result(result)
        finally:  # a thread of ``registry`` is free: to the next lookup that may start
            self._start(self._free(registry))

    def _free(self, registry: str) -> list[tuple[str, _Task[Any]]]:
        with self._lock:
            left = self._running.get(registry, 1) - 1
            if left > 0:
                self._running[registry] = left
            else:
                self._running.pop(registry, None)
                if registry not in self._waiting:
                    self._served.pop(registry, None)
            self._running_total -= 1
            return self._ready()
