"""Resolve the known toolchain images into a :class:`Lineage`, lazily, per platform.

Layer-digest lineage (:mod:`slimgate.analysis.lineage`) needs the layer digests of
``golang:1``, ``maven:3``... for the platform being evaluated. Fetching them costs one
manifest lookup each, so this resolver:

- does nothing until an image for a platform has been read (the Evaluator asks then);
- fetches every configured image for that platform concurrently, on daemon threads (at most
  ``workers`` at once), and waits for them at most ``wait_seconds`` from the first request:
  an unreachable registry delays one evaluation by that bound, never more;
- keeps what arrives later for the next evaluation, caches results for ``ttl_seconds`` and
  retries a failed image after ``retry_seconds``;
- logs and skips failures: lineage makes findings stronger, its absence is never fatal
  (the history and environment signatures still apply).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field

from slimgate.analysis.lineage import KnownBase, Lineage, ToolchainImage
from slimgate.errors import SlimgateError
from slimgate.evaluation import ImageSource
from slimgate.model import ImageMetadata, Platform

log = logging.getLogger("slimgate.lineage")


@dataclass
class _PlatformState:
    wait_until: float | None = None
    bases: dict[str, KnownBase] = field(default_factory=dict)
    resolved_at: dict[str, float] = field(default_factory=dict)
    failed_at: dict[str, float] = field(default_factory=dict)
    pending: dict[str, Future[None]] = field(default_factory=dict)


class LineageResolver:
    """A :class:`slimgate.evaluation.LineageProvider` backed by an ``ImageSource``."""

    def __init__(
        self,
        source: ImageSource,
        images: Sequence[ToolchainImage],
        *,
        wait_seconds: float,
        workers: int = 8,
        ttl_seconds: float = 6 * 3600.0,
        retry_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._images = tuple(images)
        self._wait_seconds = wait_seconds
        self._ttl = ttl_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._lock = threading.Lock()
        self._states: dict[str, _PlatformState] = {}

    def lineage_for(self, platform: Platform) -> Lineage:
        """The bases known for ``platform``, waiting (once, boundedly) for a first round."""
        if not self._images:
            return Lineage()
        now = self._clock()
        with self._lock:
            state = self._states.setdefault(str(platform), _PlatformState())
            if state.wait_until is None:
                state.wait_until = now + self._wait_seconds
            for image in self._images:
                if self._due(state, image.reference, now):
                    state.pending[image.reference] = self._start(state, image, platform)
            pending = list(state.pending.values())
            remaining = state.wait_until - now
        if pending and remaining > 0:
            wait(pending, timeout=remaining)
        with self._lock:
            return Lineage.of(
                state.bases[i.reference] for i in self._images if i.reference in state.bases
            )

    def _due(self, state: _PlatformState, reference: str, now: float) -> bool:
        if reference in state.pending:
            return False
        failed = state.failed_at.get(reference)
        if failed is not None and now - failed < self._retry:
            return False
        resolved = state.resolved_at.get(reference)
        return resolved is None or now - resolved >= self._ttl

    def _start(
        self, state: _PlatformState, image: ToolchainImage, platform: Platform
    ) -> Future[None]:
        done: Future[None] = Future()

        def run() -> None:
            try:
                with self._slots:
                    try:
                        metadata = self._source.fetch(image.reference, platform)
                    except Exception as exc:  # noqa: BLE001 - logged and skipped, never fatal
                        self._failed(state, image, platform, exc)
                    else:
                        self._resolved(state, image, metadata)
            finally:
                done.set_result(None)  # after the state is updated: waiters see the result

        threading.Thread(target=run, name=f"lineage {image.reference}", daemon=True).start()
        return done

    def _resolved(
        self, state: _PlatformState, image: ToolchainImage, metadata: ImageMetadata
    ) -> None:
        base = KnownBase(
            name=image.name,
            reference=image.reference,
            layers=tuple(layer.digest for layer in metadata.layers),
            rule=image.rule,
            ecosystem=image.ecosystem,
            digest=metadata.digest,
        )
        with self._lock:
            state.pending.pop(image.reference, None)
            state.bases[image.reference] = base
            state.resolved_at[image.reference] = self._clock()
            state.failed_at.pop(image.reference, None)

    def _failed(
        self, state: _PlatformState, image: ToolchainImage, platform: Platform, error: Exception
    ) -> None:
        with self._lock:
            state.pending.pop(image.reference, None)
            state.failed_at[image.reference] = self._clock()
        if isinstance(error, SlimgateError):
            log.warning(
                "lineage: cannot resolve %s for %s, skipped: %s", image.reference, platform, error
            )
        else:
            log.error(
                "lineage: unexpected error resolving %s for %s, skipped",
                image.reference,
                platform,
                exc_info=error,
            )
