"""Pods and the owners above them, read through the Kubernetes API, two ways.

Both implement :class:`slimgate.audit.owners.OwnerLookup`:

- :class:`CachedOwners` (the operator, which watches pods): an owner is read when a pod
  names it and cached, so a Deployment is read once, not once per pod. Entries live ``ttl``
  seconds (an owner's own owner references rarely change); a missing or unreadable owner is
  remembered for ``negative_ttl`` so a burst of pods does not hammer the API server.
- :func:`read_cluster` (``slimgate audit``, one pass): everything is listed once (pods,
  then each owner kind the chain can pass through) as raw JSON pages of 500, so a large
  cluster costs a few dozen requests and no typed-model deserialization; owners are then
  looked up in memory (:class:`ListedOwners`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slimgate.audit.owners import READABLE_KINDS, OwnedObject
from slimgate.audit.pods import owned_object, pod_record
from slimgate.audit.workloads import OwnerReference, PodRecord
from slimgate.cluster.api import Api
from slimgate.errors import KubeError
from slimgate.registry.cache import TTLCache

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
        # One-tuples, so that a missing owner is an answer the cache keeps too.
        self._entries: TTLCache[tuple[OwnedObject | None]] = TTLCache(ttl, clock, max_entries)
        self.reads = 0

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        readable = READABLE_KINDS.get(owner.kind)
        if readable is None:
            return None
        key = (namespace, owner.kind, owner.name)
        cached = self._entries.get(key)
        if cached is not None:
            return cached[0]
        found: OwnedObject | None = None
        try:
            self.reads += 1
            raw = self._api.get(readable.api_version, readable.plural, namespace, owner.name)
            if raw is not None:
                found = owned_object(raw, owner.kind, readable.api_version)
        except KubeError as exc:
            log.warning("cannot read %s %s/%s: %s", owner.kind, namespace, owner.name, exc)
        ttl = self._ttl if found is not None else self._negative_ttl
        self._entries.put(key, (found,), ttl=ttl)
        return found


@dataclass
class ListedOwners:
    """An ``OwnerLookup`` over objects listed up front."""

    objects: dict[tuple[str, str, str], OwnedObject]

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        return self.objects.get((namespace, owner.kind, owner.name))


def read_cluster(api: Api, namespace: str | None) -> tuple[list[PodRecord], ListedOwners]:
    """Every pod (of ``namespace``, or of the cluster) and every owner kind we follow.

    Raises :class:`~slimgate.errors.KubeError` when the pods cannot be listed.
    """
    pods = [pod_record(item) for item in api.list("v1", "pods", namespace)]
    objects: dict[tuple[str, str, str], OwnedObject] = {}
    for kind, readable in READABLE_KINDS.items():
        try:
            items = api.list(readable.api_version, readable.plural, namespace)
        except KubeError:
            continue  # no permission for one kind: pods are attributed to the owner they name
        for item in items:
            owned = owned_object(item, kind, readable.api_version)
            objects[(owned.ref.namespace, kind, owned.ref.name)] = owned
    return pods, ListedOwners(objects)
