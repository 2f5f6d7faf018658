"""The auditor end to end over our seams: fake API, fake engine, always leader."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from slimgate.audit.outcomes import workload_results
from slimgate.audit.results import Evaluated
from slimgate.cluster.owners import CachedOwners
from slimgate.kube.placement import Placement
from slimgate.kube.workloads import PullAccess
from slimgate.model import Subject
from slimgate.operator.auditor import Auditor, AuditSettings
from slimgate.operator.events import EventRecorder
from slimgate.operator.leader import AlwaysLeader
from slimgate.operator.metrics import AuditMetrics
from slimgate.operator.writer import ReportWriter
from tests.support.audits import result, toolchain, unreadable, workload

from .fakeapi import FakeApi

PR = ("wgpolicyk8s.io/v1alpha2", "policyreports")


class Engine:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.access: list[PullAccess | None] = []
        self.broken: set[str] = set()

    def __call__(
        self, image: str, subject: Subject, access: PullAccess | None, placement: Placement
    ) -> Evaluated:
        self.calls.append((image, subject.namespace))
        self.access.append(access)
        if image in self.broken:
            return unreadable(image, "connection refused")
        if "golang" in image:
            return result(image, toolchain())
        return result(image)


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pod(
    namespace: str, name: str, image: str, owner: tuple[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "uid": f"uid-{name}",
        "labels": {"app": name},
    }
    if owner:
        kind, oname = owner
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": kind,
                "name": oname,
                "uid": f"uid-{oname}",
                "controller": True,
            }
        ]
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "app", "image": image}]},
        "status": {"phase": "Running"},
    }


def _owner(
    api: FakeApi, namespace: str, kind: str, name: str, parent: tuple[str, str] | None = None
) -> None:
    plural = {"ReplicaSet": "replicasets", "Deployment": "deployments"}[kind]
    meta: dict[str, Any] = {"namespace": namespace, "name": name, "uid": f"uid-{name}"}
    if parent:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": parent[0],
                "name": parent[1],
                "uid": f"uid-{parent[1]}",
                "controller": True,
            }
        ]
    api.put("apps/v1", plural, {"apiVersion": "apps/v1", "kind": kind, "metadata": meta})


@pytest.fixture
def setup() -> Iterator[tuple[Auditor, FakeApi, Engine, Clock]]:
    api, engine, clock = FakeApi(), Engine(), Clock()
    _owner(api, "shop", "ReplicaSet", "web-7d9", ("Deployment", "web"))
    _owner(api, "shop", "Deployment", "web")
    auditor = Auditor(
        AuditSettings(quiet=2, longest=30, error_retry=60, excluded=("kube-*",)),
        api=api,
        evaluate=engine,
        owners=CachedOwners(api, clock=clock),
        writer=ReportWriter(api),
        events=EventRecorder(api, monotonic=clock),
        leader=AlwaysLeader(),
        metrics=AuditMetrics(),
        monotonic=clock,
        wall=lambda: datetime(2025, 3, 1, tzinfo=UTC),
    )
    yield auditor, api, engine, clock
    auditor._pool.shutdown()


def _report(api: FakeApi, namespace: str) -> dict[str, Any]:
    return api.objects[(*PR, namespace, "slimgate")]


def test_fifty_pods_of_a_deployment_are_one_subject_and_one_evaluation(setup: Any) -> None:
    auditor, api, engine, clock = setup
    auditor.tick()  # first pass: re-scan of an empty cluster
    for i in range(50):
        auditor.pod_event(
            "ADDED", _pod("shop", f"web-7d9-{i}", "reg/golang-app:1", ("ReplicaSet", "web-7d9"))
        )
    assert auditor.tick() == []  # debounced: nothing is due yet
    clock.now += 3
    assert auditor.tick() == ["shop"]
    assert engine.calls == [("reg/golang-app:1", "shop")]
    report = _report(api, "shop")
    resources = {r["resources"][0]["name"] for r in report["results"]}
    assert resources == {"web"}
    assert report["summary"]["fail"] == 1
    assert auditor.owners.reads == 2  # the ReplicaSet and the Deployment, read once each
    assert len(api.writes("events")) == 1


def test_each_workload_is_evaluated_with_its_pods_pull_access(setup: Any) -> None:
    auditor, _api, engine, clock = setup
    auditor.tick()
    private = _pod("shop", "web-7d9-0", "reg/private:1", ("ReplicaSet", "web-7d9"))
    private["spec"]["serviceAccountName"] = "builder"
    private["spec"]["imagePullSecrets"] = [{"name": "regcred"}]
    auditor.pod_event("ADDED", private)
    auditor.pod_event("ADDED", _pod("shop", "solo", "reg/private:1"))
    clock.now += 3
    assert auditor.tick() == ["shop"]
    # one image, two credential contexts: each is looked up with its own secrets
    assert engine.calls == [("reg/private:1", "shop")] * 2
    assert set(engine.access) == {
        PullAccess("shop", "builder", ("regcred",)),
        PullAccess("shop", "default", ()),
    }


def test_a_changed_image_updates_and_a_removed_workload_empties_the_report(setup: Any) -> None:
    auditor, api, _engine, clock = setup
    auditor.tick()
    auditor.pod_event(None, _pod("shop", "solo", "reg/app:1"))
    clock.now += 3
    auditor.tick()
    assert {r["properties"]["image"] for r in _report(api, "shop")["results"]} == {"reg/app:1"}
    auditor.pod_event("MODIFIED", _pod("shop", "solo", "reg/golang-app:2"))
    clock.now += 3
    auditor.tick()
    report = _report(api, "shop")
    assert {r["properties"]["image"] for r in report["results"]} == {"reg/golang-app:2"}
    assert report["summary"]["fail"] == 1
    auditor.pod_event("DELETED", _pod("shop", "solo", "reg/golang-app:2"))
    clock.now += 3
    auditor.tick()
    assert _report(api, "shop")["results"] == []


def test_excluded_namespaces_are_ignored(setup: Any) -> None:
    auditor, _api, engine, clock = setup
    auditor.tick()
    auditor.pod_event("ADDED", _pod("kube-system", "dns", "reg/golang-app:1"))
    clock.now += 3
    assert auditor.tick() == []
    assert engine.calls == []


def test_unreadable_images_become_error_results_and_are_retried(setup: Any) -> None:
    auditor, api, engine, clock = setup
    engine.broken.add("reg/gone:1")
    auditor.tick()
    auditor.pod_event("ADDED", _pod("shop", "p", "reg/gone:1"))
    clock.now += 3
    auditor.tick()
    [error] = _report(api, "shop")["results"]
    assert (error["result"], error["rule"]) == ("error", "registry-error")
    assert "connection refused" in error["message"]
    engine.broken.clear()
    clock.now += 61
    assert auditor.tick() == ["shop"]
    assert _report(api, "shop")["summary"]["error"] == 0


def test_the_interval_rescan_relists_pods_and_evaluates_again(setup: Any) -> None:
    auditor, api, engine, clock = setup
    api.put("v1", "pods", _pod("shop", "solo", "reg/app:1"))
    assert auditor.tick() == ["shop"]  # the first pass lists pods itself
    assert len(engine.calls) == 1
    clock.now += 10
    assert auditor.tick() == []
    clock.now += auditor.settings.interval
    assert auditor.tick() == ["shop"]
    assert len(engine.calls) == 2  # cached evaluations are dropped on a re-scan


def test_a_report_left_over_in_a_namespace_without_pods_is_emptied(setup: Any) -> None:
    auditor, api, _engine, _clock = setup
    ReportWriter(api).write("old", list(_stale_results()), datetime(2025, 1, 1, tzinfo=UTC))
    assert auditor.tick() == ["old"]
    assert _report(api, "old")["results"] == []


def _stale_results() -> list[Any]:
    return list(
        workload_results(
            workload("old", "Deployment", "gone").run("app", result("reg/x:1")).build()
        )
    )
