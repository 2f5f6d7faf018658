"""Reload the configuration file when it changes on disk, keeping the old one if it is bad.

A ConfigMap mounted as a volume is updated by an atomic symlink swap, so the watcher
compares the file's signature (:mod:`slimgate.runtime.files`); it looks at most once every
``interval`` seconds, when asked from the request path (the kubelet's probes keep calling
even without admission traffic). Only one check runs at a
time while requests carry on with the current generation. With a ``background`` executor
(the served app) the check and the rebuild run there, so a reload never holds up the event
loop that answers reviews; without one (tests, plain WSGI) they run in the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Generic, TypeVar

from slimgate.errors import SlimgateError
from slimgate.runtime.files import file_signature
from slimgate.webhook.metrics import WebhookMetrics

log = logging.getLogger("slimgate.webhook")

T = TypeVar("T")


class ConfigWatcher(Generic[T]):
    """Holds the current generation built from the file and replaces it when the file changes."""

    def __init__(
        self,
        path: Path,
        current: T,
        build: Callable[[Path], T],
        metrics: WebhookMetrics,
        *,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        background: Executor | None = None,
    ) -> None:
        self.path = path
        self._background = background
        self._current = current
        self._build = build
        self._metrics = metrics
        self._interval = interval
        self._clock = clock
        self._seen = file_signature(path)
        self._next = clock() + interval
        self._lock = threading.Lock()

    def poll(self) -> T:
        """The current generation, after reloading if the interval passed and the file changed.

        With a ``background`` executor the reload is started there and the generation in
        service now is returned; the next poll after it finished gets the new one.
        """
        if self._clock() >= self._next and self._lock.acquire(blocking=False):
            self._next = self._clock() + self._interval
            if self._background is None:
                self._locked_check()
            else:
                try:
                    self._background.submit(self._locked_check)
                except RuntimeError:  # shut down: the process is stopping
                    self._lock.release()
        return self._current

    def _locked_check(self) -> None:
        try:
            self._check()
        finally:
            self._lock.release()

    def _check(self) -> None:
        signature = file_signature(self.path)
        if signature is None or signature == self._seen:
            return
        self._seen = signature  # a bad file is reported once, not on every poll
        try:
            generation = self._build(self.path)
        except Exception as exc:
            if not isinstance(exc, SlimgateError | OSError | ValueError):
                log.exception("configuration reload failed unexpectedly")
            self._metrics.reload_failures.inc()
            self._metrics.reload_success.set(0)
            log.error(
                "configuration reload failed; keeping the previous configuration",
                extra={"fields": {"path": str(self.path), "reason": str(exc)}},
            )
            return
        self._current = generation
        self._metrics.reloads.inc()
        self._metrics.reload_success.set(1)
        log.info("configuration reloaded", extra={"fields": {"path": str(self.path)}})
