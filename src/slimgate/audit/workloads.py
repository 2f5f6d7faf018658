"""Workloads as the audit sees them: a top-level owner, the images it runs, its live pods.

A Deployment's fifty pods are one subject. A pod is reduced to a :class:`PodRecord` at the
edge (the operator's watch, the audit's listing); :mod:`slimgate.audit.owners` finds its
top-level owner and :mod:`slimgate.audit.inventory` groups the records into
:class:`Workload` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slimgate.kube.placement import Placement
from slimgate.kube.workloads import PullAccess

# Pod phases of pods that no longer run; they do not count as replicas.
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})

# Labels the controllers add to every pod; they say nothing about the workload.
CONTROLLER_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "pod-template-generation",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-name",
        "batch.kubernetes.io/job-completion-index",
        "controller-uid",
        "job-name",
    }
)


@dataclass(frozen=True, slots=True, order=True)
class WorkloadRef:
    """A Kubernetes object reference (``corev1.ObjectReference`` fields we fill)."""

    namespace: str
    kind: str
    name: str
    api_version: str = "v1"
    uid: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity within a cluster: the uid may be unknown, the kind and name never are."""
        return (self.namespace, self.kind, self.name)

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class OwnerReference:
    """One entry of ``metadata.ownerReferences``."""

    api_version: str
    kind: str
    name: str
    uid: str = ""
    controller: bool = False


@dataclass(frozen=True, slots=True, order=True)
class ContainerImage:
    """A container (or init/ephemeral container) and the image it runs."""

    container: str
    image: str
    field_path: str = ""  # "spec.containers[0].image"


@dataclass(frozen=True, slots=True)
class PodRecord:
    """What the audit keeps of a pod: identity, owners, labels, images, whether it runs."""

    namespace: str
    name: str
    uid: str
    images: tuple[ContainerImage, ...]
    owners: tuple[OwnerReference, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    phase: str = "Pending"
    access: PullAccess | None = None  # ServiceAccount and imagePullSecrets
    placement: Placement = field(default_factory=Placement)  # nodeSelector, node affinity

    @property
    def active(self) -> bool:
        return self.phase not in FINISHED_PHASES

    def controller(self) -> OwnerReference | None:
        return controller_of(self.owners)

    def workload_labels(self) -> dict[str, str]:
        return {k: v for k, v in self.labels.items() if k not in CONTROLLER_LABELS}


def controller_of(owners: tuple[OwnerReference, ...]) -> OwnerReference | None:
    """The managing controller among ``owners`` (``controller: true``), else None."""
    return next((owner for owner in owners if owner.controller), None)


@dataclass(frozen=True, slots=True)
class Workload:
    """A top-level owner, the container images its pods run and how many live pods run each.

    During a rollout old and new pods run different images; both are listed, each with its
    own count, so the bloat cost follows what really runs.
    """

    ref: WorkloadRef
    containers: Mapping[ContainerImage, int]  # container image -> live pods running it
    labels: Mapping[str, str] = field(default_factory=dict)
    replicas: int = 0  # live pods
    pods: int = 0  # every pod seen, finished ones included
    access: PullAccess | None = None  # its pods' registry credentials (the first pod's)
    placement: Placement = field(default_factory=Placement)  # the first pod's

    @property
    def images(self) -> tuple[ContainerImage, ...]:
        return tuple(sorted(self.containers))
