"""The inventory's bookkeeping and the grouping of pods into workloads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slimgate.audit.auditing import audit_workloads, plan
from slimgate.audit.inventory import Inventory, group_workloads
from slimgate.audit.owners import pod_reference
from slimgate.audit.workloads import ContainerImage, PodRecord, WorkloadRef
from slimgate.kube.placement import Placement, read_placement
from slimgate.model import Subject

WEB = WorkloadRef("shop", "Deployment", "web", "apps/v1", "uid-web")


def _pod(
    name: str, image: str = "reg/web:1", phase: str = "Running", namespace: str = "shop"
) -> PodRecord:
    return PodRecord(
        namespace,
        name,
        f"uid-{name}",
        images=(ContainerImage("app", image, "spec.containers[0].image"),),
        labels={"app": "web", "pod-template-hash": name[-3:]},
        phase=phase,
    )


def _owner(pod: PodRecord) -> WorkloadRef:
    return WEB if pod.name.startswith("web-") else pod_reference(pod)


def test_fifty_pods_of_a_deployment_are_one_workload() -> None:
    pods = [_pod(f"web-{i:03d}") for i in range(50)]
    [workload] = group_workloads(pods, _owner)
    assert workload.ref == WEB
    assert workload.replicas == 50
    assert workload.containers == {
        ContainerImage("app", "reg/web:1", "spec.containers[0].image"): 50
    }
    assert workload.labels == {"app": "web"}  # pod-template-hash is the controller's


def test_finished_pods_are_not_replicas() -> None:
    pods = [_pod("web-001"), _pod("web-002", phase="Succeeded"), _pod("web-003", phase="Failed")]
    [workload] = group_workloads(pods, _owner)
    assert (workload.replicas, workload.pods) == (1, 3)


def test_a_rollout_counts_each_image_separately() -> None:
    pods = [
        _pod("web-001", "reg/web:1"),
        _pod("web-002", "reg/web:2"),
        _pod("web-003", "reg/web:2"),
    ]
    [workload] = group_workloads(pods, _owner)
    counts = {c.image: n for c, n in workload.containers.items()}
    assert counts == {"reg/web:1": 1, "reg/web:2": 2}
    assert workload.replicas == 3


def test_bare_pods_are_their_own_workloads_sorted() -> None:
    workloads = group_workloads([_pod("b"), _pod("a"), _pod("web-1")], _owner)
    assert [str(w.ref) for w in workloads] == ["Deployment/web", "Pod/a", "Pod/b"]


def test_inventory_reports_only_real_changes() -> None:
    inventory = Inventory()
    assert inventory.upsert(_pod("web-001"))
    assert not inventory.upsert(_pod("web-001"))  # same pod again: nothing changed
    assert inventory.upsert(_pod("web-001", "reg/web:2"))
    assert inventory.upsert(_pod("x", namespace="other"))
    assert inventory.namespaces() == {"shop", "other"}


def test_removing_the_last_pod_empties_the_namespace() -> None:
    inventory = Inventory()
    inventory.upsert(_pod("web-001"))
    assert inventory.remove("shop", "web-001")
    assert not inventory.remove("shop", "web-001")
    assert not inventory.remove("nowhere", "web-001")
    assert inventory.pods("shop") == ()
    assert inventory.namespaces() == set()


def test_replace_all_starts_over() -> None:
    inventory = Inventory()
    inventory.upsert(_pod("a", namespace="old"))
    inventory.replace_all([_pod("b", namespace="new")])
    assert inventory.namespaces() == {"new"}
    assert len(inventory) == 1


def test_workloads_pinned_to_different_platforms_are_evaluated_apart() -> None:
    """The same image in two workloads, one pinned to arm64: two evaluations, each with
    its workload's placement, which is its first pod's."""
    arm = read_placement({"nodeSelector": {"kubernetes.io/arch": "arm64"}})
    pods = [replace(_pod("web-a01"), placement=arm), _pod("batch")]
    workloads = group_workloads(pods, _owner)
    assert [w.placement for w in workloads] == [arm, Placement()]  # Deployment, Pod
    seen: list[Placement] = []

    def evaluate(image: str, subject: Subject, access: object, placement: Placement) -> Any:
        seen.append(placement)
        return object()

    assert len(plan(workloads)) == 2
    audit_workloads(workloads, evaluate)
    assert sorted(seen, key=str) == sorted([Placement(), arm], key=str)
