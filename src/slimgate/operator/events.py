"""Kubernetes Events on workloads whose images would be denied, at most one an hour each.

An Event per pod would flood ``kubectl get events``; one per workload and image digest per
``period`` says the same thing once. Events are ``core/v1`` (what ``kubectl describe``
shows), type ``Warning``, reason ``ToolchainImage``, on the top-level workload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slimgate.audit.results import ContainerAudit, WorkloadAudit
from slimgate.cluster.api import Api
from slimgate.errors import KubeError
from slimgate.operator.timing import RateLimiter
from slimgate.policy.decision import RuleAction, Verdict

log = logging.getLogger(__name__)

REASON = "ToolchainImage"
COMPONENT = "slimgate-operator"
MAX_MESSAGE = 1024


def would_deny(container: ContainerAudit) -> bool:
    """Denied in ``enforce`` mode, and not exempted: what admission would refuse."""
    decision = container.result.decision
    return (
        decision.enforced is Verdict.DENY
        and decision.exemption is None
        and container.result.error is None
    )


def message(container: ContainerAudit) -> str:
    findings = [
        d.finding.message for d in container.result.decision.findings if d.action == RuleAction.DENY
    ]
    text = (
        f"container {container.container.container}: image {container.result.image} would be "
        f"denied by slimgate: {'; '.join(findings) or 'policy'}"
    )
    return text[:MAX_MESSAGE]


class EventRecorder:
    def __init__(
        self,
        api: Api,
        *,
        period: float = 3600.0,
        identity: str = COMPONENT,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.api = api
        self.identity = identity
        self._limiter = RateLimiter(period)
        self._monotonic = monotonic
        self._wall = wall

    def record(self, audit: WorkloadAudit) -> int:
        """Post the events ``audit`` calls for; returns how many were posted."""
        posted = 0
        ref = audit.workload.ref
        for container in audit.containers:
            if not would_deny(container):
                continue
            digest = container.digest or container.result.image
            key = (ref.key, ref.uid, container.container.container, digest)
            if not self._limiter.allow(key, self._monotonic()):
                continue
            if self._post(audit, container):
                posted += 1
        return posted

    def _post(self, audit: WorkloadAudit, container: ContainerAudit) -> bool:
        ref = audit.workload.ref
        stamp = self._wall().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        involved: dict[str, Any] = {
            "apiVersion": ref.api_version,
            "kind": ref.kind,
            "name": ref.name,
            "namespace": ref.namespace,
        }
        if ref.uid:
            involved["uid"] = ref.uid
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{ref.name}.", "namespace": ref.namespace},
            "involvedObject": involved,
            "reason": REASON,
            "message": message(container),
            "type": "Warning",
            "source": {"component": COMPONENT},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": COMPONENT,
            "reportingInstance": self.identity,
        }
        try:
            self.api.create("v1", "events", ref.namespace, body)
        except KubeError as exc:
            log.warning("cannot post event on %s/%s: %s", ref.namespace, ref, exc)
            return False
        return True
