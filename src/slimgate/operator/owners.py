"""Owner objects read through the API, cached: a Deployment is read once, not once per pod.

Implements :class:`slimgate.reports.owners.OwnerLookup`. Entries live ``ttl`` seconds (an
owner's own owner references rarely change); a missing or unreadable owner is remembered
for ``negative_ttl`` so a burst of pods does not hammer the API server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slimgate.errors import KubeError
from slimgate.kube.api import Api
from slimgate.reports.owners import READABLE_KINDS, OwnedObject
from slimgate.reports.pods import owned_object
from slimgate.reports.workloads import OwnerReference

log = logging.getLogger(__name__)


class CachedOwners:
    def __init__(
        self,
        api: Api,
        *,
        ttl: float = 600.0,
        negative_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 50_000,
    ) -> None:
        self._api = api
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, str], tuple[float, OwnedObject | None]] = {}
        self.reads = 0

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        readable = READABLE_KINDS.get(owner.kind)
        if readable is None:
            return None
        key = (namespace, owner.kind, owner.name)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
        found: OwnedObject | None = None
        try:
            self.reads += 1
            raw = self._api.get(readable.api_version, readable.plural, namespace, owner.name)
            if raw is not None:
                found = owned_object(raw, owner.kind, readable.api_version)
        except KubeError as exc:
            log.warning("cannot read %s %s/%s: %s", owner.kind, namespace, owner.name, exc)
        expires = now + (self._ttl if found is not None else self._negative_ttl)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = (expires, found)
        return found
