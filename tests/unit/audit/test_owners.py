"""Top-level owner resolution, with owners served from a dict (our OwnerLookup seam)."""

from __future__ import annotations

from slimgate.audit.owners import OwnedObject, top_owner
from slimgate.audit.workloads import OwnerReference, PodRecord, WorkloadRef


def _ref(kind: str, name: str, api: str = "apps/v1", controller: bool = True) -> OwnerReference:
    return OwnerReference(api, kind, name, uid=f"uid-{name}", controller=controller)


def _pod(*owners: OwnerReference) -> PodRecord:
    return PodRecord("shop", "pod-1", "uid-pod", images=(), owners=owners)


class Lookup:
    def __init__(self, objects: dict[tuple[str, str], OwnedObject]) -> None:
        self.objects = objects
        self.calls: list[tuple[str, str]] = []

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        self.calls.append((owner.kind, owner.name))
        return self.objects.get((owner.kind, owner.name))


def _owned(kind: str, name: str, api: str, *owners: OwnerReference) -> OwnedObject:
    return OwnedObject(WorkloadRef("shop", kind, name, api, f"uid-{name}"), owners)


def test_pod_replicaset_deployment_chain_ends_at_the_deployment() -> None:
    lookup = Lookup(
        {
            ("ReplicaSet", "web-7d9"): _owned(
                "ReplicaSet", "web-7d9", "apps/v1", _ref("Deployment", "web")
            ),
            ("Deployment", "web"): _owned("Deployment", "web", "apps/v1"),
        }
    )
    owner = top_owner(_pod(_ref("ReplicaSet", "web-7d9")), lookup)
    assert owner == WorkloadRef("shop", "Deployment", "web", "apps/v1", "uid-web")
    assert lookup.calls == [("ReplicaSet", "web-7d9"), ("Deployment", "web")]


def test_pod_job_cronjob_chain_ends_at_the_cronjob() -> None:
    lookup = Lookup(
        {
            ("Job", "nightly-2890"): _owned(
                "Job", "nightly-2890", "batch/v1", _ref("CronJob", "nightly", "batch/v1")
            ),
            ("CronJob", "nightly"): _owned("CronJob", "nightly", "batch/v1"),
        }
    )
    owner = top_owner(_pod(_ref("Job", "nightly-2890", "batch/v1")), lookup)
    assert (owner.kind, owner.name, owner.api_version) == ("CronJob", "nightly", "batch/v1")


def test_a_pod_without_controller_is_its_own_workload() -> None:
    lookup = Lookup({})
    owner = top_owner(_pod(_ref("ReplicaSet", "x", controller=False)), lookup)
    assert owner == WorkloadRef("shop", "Pod", "pod-1", "v1", "uid-pod")
    assert lookup.calls == []


def test_an_unreadable_owner_ends_the_walk_at_that_owner() -> None:
    owner = top_owner(_pod(_ref("ReplicaSet", "gone")), Lookup({}))
    assert (owner.kind, owner.name, owner.uid) == ("ReplicaSet", "gone", "uid-gone")


def test_an_ownership_cycle_stops() -> None:
    lookup = Lookup(
        {
            ("ReplicaSet", "a"): _owned("ReplicaSet", "a", "apps/v1", _ref("ReplicaSet", "b")),
            ("ReplicaSet", "b"): _owned("ReplicaSet", "b", "apps/v1", _ref("ReplicaSet", "a")),
        }
    )
    owner = top_owner(_pod(_ref("ReplicaSet", "a")), lookup)
    assert owner.name == "b"
    assert len(lookup.calls) == 2
