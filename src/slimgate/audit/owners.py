"""Find a pod's top-level owner by following ``controller`` owner references upwards.

Pod → ReplicaSet → Deployment and Pod → Job → CronJob are the common chains; anything that
sets ``metadata.ownerReferences`` with ``controller: true`` (an operator's custom resource
owning a Deployment) is followed the same way, as far as the objects can be read. Owner
references never cross namespaces (Kubernetes garbage-collection docs), so a chain stays in
the pod's namespace.

The walk is pure: reading an owner is the caller's :class:`OwnerLookup` — the operator's
cached API reads, the audit's pre-listed objects, a dict in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slimgate.audit.workloads import OwnerReference, PodRecord, WorkloadRef, controller_of

MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class OwnedObject:
    """An owner as read from the API: its identity and its own owner references."""

    ref: WorkloadRef
    owners: tuple[OwnerReference, ...] = ()


@dataclass(frozen=True, slots=True)
class Readable:
    """How to read a kind through the API: ``/apis/{group}/{version}/namespaces/ns/{plural}``."""

    api_version: str
    plural: str


# The owner kinds slimgate reads (and asks RBAC ``get``/``list`` for). Any other kind ends
# the walk: the pod is reported under that owner, named as its reference names it.
READABLE_KINDS: dict[str, Readable] = {
    "ReplicaSet": Readable("apps/v1", "replicasets"),
    "Deployment": Readable("apps/v1", "deployments"),
    "StatefulSet": Readable("apps/v1", "statefulsets"),
    "DaemonSet": Readable("apps/v1", "daemonsets"),
    "Job": Readable("batch/v1", "jobs"),
    "CronJob": Readable("batch/v1", "cronjobs"),
    "ReplicationController": Readable("v1", "replicationcontrollers"),
}


class OwnerLookup(Protocol):
    """Read one owner named by a reference; None when it is gone or cannot be read."""

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None: ...


def reference_to(namespace: str, owner: OwnerReference) -> WorkloadRef:
    return WorkloadRef(
        namespace=namespace,
        kind=owner.kind,
        name=owner.name,
        api_version=owner.api_version,
        uid=owner.uid,
    )


def pod_reference(pod: PodRecord) -> WorkloadRef:
    return WorkloadRef(namespace=pod.namespace, kind="Pod", name=pod.name, uid=pod.uid)


def top_owner(pod: PodRecord, lookup: OwnerLookup) -> WorkloadRef:
    """The top-level controller of ``pod``: the pod itself when nothing controls it.

    An owner that cannot be read (deleted, a kind we do not read, a failed request) ends
    the walk there, so every pod is attributed to the highest owner we know of.
    """
    owner = pod.controller()
    if owner is None:
        return pod_reference(pod)
    current = reference_to(pod.namespace, owner)
    seen = {current.key}
    for _ in range(MAX_DEPTH):
        found = lookup(pod.namespace, owner)
        if found is None:
            return current
        parent = controller_of(found.owners)
        if parent is None:
            return found.ref if found.ref.uid else current
        candidate = reference_to(pod.namespace, parent)
        if candidate.key in seen:  # a cycle: nothing the API server prevents
            return current
        seen.add(candidate.key)
        owner, current = parent, candidate
    return current
