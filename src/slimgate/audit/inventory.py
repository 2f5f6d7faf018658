"""The operator's memory of the cluster: namespace → pods, grouped into workloads on demand.

kopf handlers only record and forget pods here (cheap, no I/O); the reconciler asks which
namespaces changed and groups their pods under top-level owners with
:func:`group_workloads`. Not thread-safe by itself: the operator guards it with one lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from slimgate.audit.workloads import ContainerImage, PodRecord, Workload, WorkloadRef


class Inventory:
    """Pods by namespace; ``upsert`` and ``remove`` say whether anything changed."""

    def __init__(self) -> None:
        self._pods: dict[str, dict[str, PodRecord]] = defaultdict(dict)

    def upsert(self, pod: PodRecord) -> bool:
        """Record ``pod``; True when anything changed."""
        pods = self._pods[pod.namespace]
        if pods.get(pod.name) == pod:
            return False
        pods[pod.name] = pod
        return True

    def remove(self, namespace: str, name: str) -> bool:
        pods = self._pods.get(namespace)
        return pods is not None and pods.pop(name, None) is not None

    def replace_all(self, pods: Iterable[PodRecord]) -> None:
        """Start over from a full listing."""
        self._pods = defaultdict(dict)
        for pod in pods:
            self._pods[pod.namespace][pod.name] = pod

    def namespaces(self) -> set[str]:
        return {namespace for namespace, pods in self._pods.items() if pods}

    def pods(self, namespace: str) -> tuple[PodRecord, ...]:
        return tuple(self._pods.get(namespace, {}).values())

    def __len__(self) -> int:
        return sum(len(pods) for pods in self._pods.values())


def group_workloads(
    pods: Iterable[PodRecord], owner_of: Callable[[PodRecord], WorkloadRef]
) -> tuple[Workload, ...]:
    """Group pods under their top-level owner; sorted by namespace, kind and name.

    A workload's labels are those of its first pod without the controllers' own labels
    (``pod-template-hash`` and friends), which is what exemptions match against; its pull
    access (ServiceAccount and ``imagePullSecrets``) and placement are its first pod's too.
    """
    refs: dict[tuple[str, str, str], WorkloadRef] = {}
    first: dict[tuple[str, str, str], PodRecord] = {}
    counts: dict[tuple[str, str, str], dict[ContainerImage, int]] = defaultdict(dict)
    live: dict[tuple[str, str, str], int] = defaultdict(int)
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    for pod in sorted(pods, key=lambda p: (p.namespace, p.name)):
        ref = owner_of(pod)
        key = ref.key
        if key not in refs or (ref.uid and not refs[key].uid):
            refs[key] = ref
        first.setdefault(key, pod)
        seen[key] += 1
        containers = counts[key]
        for image in pod.images:
            containers[image] = containers.get(image, 0) + (1 if pod.active else 0)
        if pod.active:
            live[key] += 1
    return tuple(
        Workload(
            ref=refs[key],
            containers=dict(counts[key]),
            labels=first[key].workload_labels(),
            replicas=live[key],
            pods=seen[key],
            access=first[key].access,
            placement=first[key].placement,
        )
        for key in sorted(refs)
    )
