"""Read what runs in a cluster for ``slimgate audit``: pods and the owners above them.

Everything is listed once (pods, then each owner kind the chain can pass through), as raw
JSON pages of 500, so a large cluster costs a few dozen requests and no typed-model
deserialization. Owners are then looked up in memory; the audit reads nothing per pod.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.errors import KubeError
from slimgate.kube.api import KubeApi
from slimgate.reports.owners import READABLE_KINDS, OwnedObject
from slimgate.reports.pods import owned_object, pod_record
from slimgate.reports.workloads import OwnerReference, PodRecord


@dataclass
class ListedOwners:
    """An ``OwnerLookup`` over objects listed up front."""

    objects: dict[tuple[str, str, str], OwnedObject]

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        return self.objects.get((namespace, owner.kind, owner.name))


def read_cluster(api: KubeApi, namespace: str | None) -> tuple[list[PodRecord], ListedOwners]:
    """Every pod (of ``namespace``, or of the cluster) and every owner kind we follow.

    Raises :class:`~slimgate.kube.api.KubeError` when the pods cannot be listed.
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
