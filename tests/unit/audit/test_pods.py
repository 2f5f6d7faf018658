"""Raw pod and owner JSON into audit records."""

from __future__ import annotations

from slimgate.audit.inventory import group_workloads
from slimgate.audit.pods import owned_object, pod_record
from slimgate.audit.workloads import ContainerImage, OwnerReference, WorkloadRef
from slimgate.kube.workloads import PullAccess

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d9-abcde",
        "namespace": "shop",
        "uid": "uid-pod",
        "labels": {"app": "web", "pod-template-hash": "7d9"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7d9",
                "uid": "u1",
                "controller": True,
            },
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "not-a-controller", "uid": "u2"},
        ],
    },
    "spec": {
        "initContainers": [{"name": "migrate", "image": "reg/migrate:1"}],
        "containers": [{"name": "app", "image": "reg/web:1"}],
    },
    "status": {"phase": "Running"},
}


def test_pod_record_keeps_images_with_field_paths_owners_labels_phase() -> None:
    record = pod_record(POD)
    assert (record.namespace, record.name, record.uid, record.phase) == (
        "shop",
        "web-7d9-abcde",
        "uid-pod",
        "Running",
    )
    assert record.images == (
        ContainerImage("migrate", "reg/migrate:1", "spec.initContainers[0].image"),
        ContainerImage("app", "reg/web:1", "spec.containers[0].image"),
    )
    assert record.controller() == OwnerReference("apps/v1", "ReplicaSet", "web-7d9", "u1", True)
    assert record.workload_labels() == {"app": "web"}
    assert record.active


def test_a_pod_without_status_is_pending_and_active() -> None:
    record = pod_record({"metadata": {"name": "p", "namespace": "n"}, "spec": {"containers": []}})
    assert (record.phase, record.active, record.images) == ("Pending", True, ())


def test_owned_object_reads_identity_and_owner_references() -> None:
    replica_set = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-7d9",
            "namespace": "shop",
            "uid": "u1",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "web",
                    "uid": "u0",
                    "controller": True,
                }
            ],
        },
    }
    owned = owned_object(replica_set, "ReplicaSet", "apps/v1")
    assert (owned.ref.kind, owned.ref.name, owned.ref.uid) == ("ReplicaSet", "web-7d9", "u1")
    assert owned.owners[0].kind == "Deployment"


def test_pod_record_keeps_the_pull_access_the_kubelet_would_use() -> None:
    spec = {
        **POD["spec"],  # type: ignore[dict-item]
        "serviceAccountName": "builder",
        "imagePullSecrets": [{"name": "regcred"}, {"name": "mirror"}],
    }
    record = pod_record({**POD, "spec": spec})
    assert record.access == PullAccess("shop", "builder", ("regcred", "mirror"))
    plain = pod_record(POD)
    assert plain.access == PullAccess("shop", "default", ())


def test_group_workloads_takes_the_pull_access_of_the_first_pod() -> None:
    first = pod_record(
        {**POD, "spec": {**POD["spec"], "imagePullSecrets": [{"name": "regcred"}]}}  # type: ignore[dict-item]
    )
    second = pod_record(
        {**POD, "metadata": {**POD["metadata"], "name": "web-7d9-fghij"}}  # type: ignore[dict-item]
    )
    owner = WorkloadRef(namespace="shop", kind="Deployment", name="web")
    (workload,) = group_workloads([second, first], lambda pod: owner)
    assert workload.access == PullAccess("shop", "default", ("regcred",))


def test_a_pod_with_a_nameless_pull_secret_entry_is_still_audited() -> None:
    record = pod_record({**POD, "spec": {**POD["spec"], "imagePullSecrets": [{}]}})  # type: ignore[dict-item]
    assert record.access == PullAccess("shop", "default", ())
    assert len(record.images) == 2


def test_pod_record_keeps_the_placement_on_platform_labels() -> None:
    spec = {
        "nodeSelector": {"kubernetes.io/arch": "arm64", "disk": "ssd"},
        "containers": [{"name": "app", "image": "reg/web:1"}],
    }
    record = pod_record({"metadata": {"name": "p", "namespace": "shop"}, "spec": spec})
    assert record.placement.node_selector == (("kubernetes.io/arch", "arm64"),)
