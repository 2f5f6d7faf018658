"""Raw Kubernetes JSON (a watched or listed pod, a read owner) into audit values.

The images of a pod and their field paths come from :mod:`slimgate.kube.workloads`, the
same reading the webhook does, so the audit sees exactly the containers admission saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slimgate.audit.owners import OwnedObject
from slimgate.audit.workloads import ContainerImage, OwnerReference, PodRecord, WorkloadRef
from slimgate.kube.placement import read_placement
from slimgate.kube.workloads import pull_access, read_containers


def owner_references(metadata: Mapping[str, Any]) -> tuple[OwnerReference, ...]:
    return tuple(
        OwnerReference(
            api_version=str(item.get("apiVersion") or ""),
            kind=item["kind"],
            name=item["name"],
            uid=str(item.get("uid") or ""),
            controller=bool(item.get("controller")),
        )
        for item in metadata.get("ownerReferences") or ()
        if isinstance(item, Mapping)
        and isinstance(item.get("kind"), str)
        and isinstance(item.get("name"), str)
    )


def _labels(metadata: Mapping[str, Any]) -> dict[str, str]:
    labels = metadata.get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def pod_record(pod: Mapping[str, Any]) -> PodRecord:
    """A pod as the API serves it (``kubectl get pod -o json``) reduced to a record.

    Raises :class:`slimgate.kube.workloads.ObjectShapeError` for a malformed spec.
    """
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    images = tuple(
        ContainerImage(container=c.name, image=c.image, field_path=c.path)
        for c in read_containers(spec)[0]
    )
    namespace = str(metadata.get("namespace") or "")
    return PodRecord(
        namespace=namespace,
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
        images=images,
        owners=owner_references(metadata),
        labels=_labels(metadata),
        phase=str(status.get("phase") or "Pending"),
        access=pull_access(spec, namespace),
        placement=read_placement(spec),
    )


def owned_object(obj: Mapping[str, Any], kind: str, api_version: str) -> OwnedObject:
    """An owner read from the API, with its own owner references."""
    metadata = obj.get("metadata") or {}
    ref = WorkloadRef(
        namespace=str(metadata.get("namespace") or ""),
        kind=str(obj.get("kind") or kind),
        name=str(metadata.get("name") or ""),
        api_version=str(obj.get("apiVersion") or api_version),
        uid=str(metadata.get("uid") or ""),
    )
    return OwnedObject(ref=ref, owners=owner_references(metadata))
