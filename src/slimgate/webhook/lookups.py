"""The webhook's image lookups: one shared pool of threads, shared fairly between registries.

Every review's lookups run on one thread pool. A registry that answers slowly, or drips
its answers, keeps a thread busy for each of its lookups until the review's deadline: one
pod naming forty images there would take every thread, and the images of healthy
registries in other reviews would wait behind them until their own deadline passed. So at
most ``per_registry`` lookups per registry host run at once (``registry.limits.
lookupsPerRegistry``); the others wait in that registry's own queue, holding no thread, and
are dropped once their review has stopped waiting for them. Each lookup runs inside
:func:`slimgate.registry.limits.lookups_end_by` with its review's deadline, so none
outlives the review that asked for it.

The limit is per registry host as written in the image reference: names that resolve to
one address are separate registries here.
"""

from __future__ import annotations

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


class LookupPool:
    """Runs lookups on ``executor``, at most ``per_registry`` per registry at once."""

    def __init__(self, executor: Executor, per_registry: int) -> None:
        self._executor = executor
        self._per_registry = per_registry
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._waiting: dict[str, deque[_Task[Any]]] = {}

    def resize(self, per_registry: int) -> None:
        """Use a new limit from now on (a reloaded configuration)."""
        with self._lock:
            self._per_registry = per_registry

    def submit(
        self, registry: str, deadline: float, call: Callable[..., T], *args: Any
    ) -> Future[T]:
        """Run ``call(*args)`` for an image of ``registry``, ending by ``deadline``.

        ``deadline`` is a ``time.monotonic()`` value. Cancel the future to drop a lookup
        that has not started.
        """
        task: _Task[T] = _Task(Future(), deadline, call, args)
        with self._lock:
            running = self._running.get(registry, 0)
            if running >= self._per_registry:
                waiting = self._waiting.setdefault(registry, deque())
                while waiting and waiting[0].future.cancelled():
                    waiting.popleft()
                waiting.append(task)
                return task.future
            self._running[registry] = running + 1
        self._start(registry, task)
        return task.future

    def running(self, registry: str) -> int:
        """Lookups of ``registry`` holding a thread (or about to)."""
        with self._lock:
            return self._running.get(registry, 0)

    def waiting(self, registry: str) -> int:
        """Lookups of ``registry`` queued behind its limit, cancelled ones included."""
        with self._lock:
            return len(self._waiting.get(registry, ()))

    def _start(self, registry: str, task: _Task[Any] | None) -> None:
        while task is not None:
            try:
                self._executor.submit(self._run, registry, task)
                return
            except RuntimeError as exc:  # the executor is shut down: nothing more will run
                if task.future.set_running_or_notify_cancel():
                    task.future.set_exception(exc)
                task = self._next(registry)

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
        finally:
            self._release(registry)

    def _release(self, registry: str) -> None:
        """A slot of ``registry`` is free: give it to the next waiting lookup, if any."""
        self._start(registry, self._next(registry))

    def _next(self, registry: str) -> _Task[Any] | None:
        """The next lookup waiting for ``registry`` (it takes over the slot), or None (the
        slot is given back)."""
        with self._lock:
            waiting = self._waiting.get(registry)
            task = None
            while waiting:
                candidate = waiting.popleft()
                if not candidate.future.cancelled():
                    task = candidate
                    break
            if not waiting:
                self._waiting.pop(registry, None)
            if task is None:
                left = self._running.get(registry, 1) - 1
                if left > 0:
                    self._running[registry] = left
                else:
                    self._running.pop(registry, None)
            return task
