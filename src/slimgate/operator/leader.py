"""One writer among replicas: leader election on a ``coordination.k8s.io/v1`` Lease.

Every replica watches pods and keeps its inventory warm; only the holder of the Lease
evaluates and writes reports and events. The algorithm is client-go's ``leaderelection``:

* the holder renews ``spec.renewTime`` every few seconds;
* a candidate takes the Lease over only when the record has not changed for
  ``leaseDurationSeconds`` *as measured by its own clock* (it never compares clocks with
  the holder), and every write carries the ``resourceVersion`` it read, so two candidates
  cannot both win: the API server answers the second with 409 Conflict.

kopf's own peering is not used (``standalone``): it pauses kopf's watches, but our writer
runs in its own thread, which kopf's peering knows nothing about.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slimgate.cluster.api import Api
from slimgate.errors import KubeError

log = logging.getLogger(__name__)

LEASE_API = "coordination.k8s.io/v1"


def micro_time(moment: datetime) -> str:
    """``metav1.MicroTime`` as the API server writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseElector:
    def __init__(
        self,
        api: Api,
        namespace: str,
        name: str,
        identity: str,
        *,
        duration: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration
        self._monotonic = monotonic
        self._wall = wall
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self.leading = False

    def _spec(self, acquire: str | None, transitions: int) -> dict[str, Any]:
        now = micro_time(self._wall())
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self.duration)),
            "acquireTime": acquire or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }

    def step(self) -> bool:
        """Acquire or renew once; True while this replica holds the Lease."""
        try:
            self.leading = self._step()
        except KubeError as exc:
            if exc.status != 409:
                log.warning("lease %s/%s: %s", self.namespace, self.name, exc)
            self.leading = False
        return self.leading

    def _step(self) -> bool:
        lease = self.api.get(LEASE_API, "leases", self.namespace, self.name)
        if lease is None:
            body = {
                "apiVersion": LEASE_API,
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(None, 0),
            }
            self.api.create(LEASE_API, "leases", self.namespace, body)
            log.info("acquired lease %s/%s as %s", self.namespace, self.name, self.identity)
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        record = (holder, spec.get("renewTime"), lease["metadata"].get("resourceVersion"))
        now = self._monotonic()
        if record != self._observed:
            self._observed, self._observed_at = record, now
        transitions = int(spec.get("leaseTransitions") or 0)
        if holder == self.identity:
            acquire = spec.get("acquireTime")
        elif not holder or now - self._observed_at >= float(
            spec.get("leaseDurationSeconds") or self.duration
        ):
            acquire, transitions = None, transitions + 1
            log.info("taking over lease %s/%s from %s", self.namespace, self.name, holder)
        else:
            return False
        lease["spec"] = self._spec(acquire, transitions)
        self.api.replace(LEASE_API, "leases", self.namespace, self.name, lease)
        return True

    def release(self) -> None:
        """Give the Lease up on shutdown so a standby takes over at once."""
        if not self.leading:
            return
        try:
            lease = self.api.get(LEASE_API, "leases", self.namespace, self.name)
            if (
                lease is not None
                and (lease.get("spec") or {}).get("holderIdentity") == self.identity
            ):
                lease["spec"]["holderIdentity"] = None
                lease["spec"]["leaseDurationSeconds"] = 1
                self.api.replace(LEASE_API, "leases", self.namespace, self.name, lease)
        except KubeError as exc:
            log.warning("cannot release lease %s/%s: %s", self.namespace, self.name, exc)
        self.leading = False


class AlwaysLeader:
    """For a single replica (``--no-leader-election``)."""

    leading = True

    def step(self) -> bool:
        return True

    def release(self) -> None:
        return None
