"""The operator writes only the report APIs discovery says are served."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from slimgate.cluster.discovery import Served
from slimgate.cluster.owners import CachedOwners
from slimgate.operator.apis import ReportApis
from slimgate.operator.auditor import Auditor, AuditSettings
from slimgate.operator.events import EventRecorder
from slimgate.operator.leader import AlwaysLeader
from slimgate.operator.metrics import AuditMetrics
from slimgate.operator.writer import ReportWriter
from slimgate.reports.policyreport import Flavour

from .fakeapi import FakeApi
from .test_auditor import Clock, Engine, _owner, _pod

BOTH = (Flavour.POLICY_REPORT, Flavour.OPEN_REPORTS)


class Probe:
    def __init__(self, served: dict[str, Served]) -> None:
        self.served = served
        self.calls: list[str] = []

    def __call__(self, api_version: str, plural: str) -> Served:
        self.calls.append(api_version)
        return self.served.get(api_version, Served.ABSENT)


def _gauge(metrics: AuditMetrics, api: str) -> float | None:
    return metrics.registry.get_sample_value("slimgate_audit_report_api_served", {"api": api})


def test_a_missing_api_is_dropped_logged_once_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = AuditMetrics()
    probe = Probe({"wgpolicyk8s.io/v1alpha2": Served.SERVED})
    apis = ReportApis(probe, BOTH, metrics.report_apis)
    with caplog.at_level(logging.INFO, logger="slimgate.operator.apis"):
        assert apis.check() == (Flavour.POLICY_REPORT,)
        assert apis.check() == (Flavour.POLICY_REPORT,)
    missing = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(missing) == 1
    assert "openreports.io/v1alpha1" in missing[0].getMessage()
    assert not apis.complete
    assert _gauge(metrics, "openreports.io/v1alpha1") == 0
    assert _gauge(metrics, "wgpolicyk8s.io/v1alpha2") == 1


def test_an_api_that_appears_later_is_written_after_the_next_rescan() -> None:
    api, clock, metrics = FakeApi(), Clock(), AuditMetrics()
    _owner(api, "shop", "ReplicaSet", "web-7d9", ("Deployment", "web"))
    _owner(api, "shop", "Deployment", "web")
    probe = Probe({"wgpolicyk8s.io/v1alpha2": Served.UNAVAILABLE})
    auditor = Auditor(
        AuditSettings(interval=100, quiet=1, longest=5),
        api=api,
        evaluate=Engine(),
        owners=CachedOwners(api, clock=clock),
        writer=ReportWriter(api, ()),
        events=EventRecorder(api, monotonic=clock),
        leader=AlwaysLeader(),
        metrics=metrics,
        apis=ReportApis(probe, (Flavour.POLICY_REPORT,), metrics.report_apis),
        monotonic=clock,
        wall=lambda: datetime(2025, 3, 1, tzinfo=UTC),
    )
    try:
        api.put(
            "v1", "pods", _pod("shop", "web-7d9-a", "reg/golang-app:1", ("ReplicaSet", "web-7d9"))
        )
        auditor.tick()
        assert not [k for k in api.objects if k[1] == "policyreports"]
        assert not [c for c in api.calls if c[1] == "policyreports"]  # no request at all
        probe.served["wgpolicyk8s.io/v1alpha2"] = Served.SERVED
        clock.now += 101
        auditor.tick()
        assert ("wgpolicyk8s.io/v1alpha2", "policyreports", "shop", "slimgate") in api.objects
        calls = len(probe.calls)
        clock.now += 101
        auditor.tick()
        assert len(probe.calls) == calls  # complete: discovery is not asked again
    finally:
        auditor._pool.shutdown()


def test_served_reads_the_group_versions_resource_list() -> None:
    from slimgate.cluster.discovery import serves
    from slimgate.errors import KubeError

    class Listing:
        def __init__(self, answer: dict[str, Any] | int) -> None:
            self.answer = answer

        def request(self, method: str, resource_path: str) -> dict[str, Any]:
            assert (method, resource_path) == ("GET", "/apis/wgpolicyk8s.io/v1alpha2")
            if isinstance(self.answer, int):
                raise KubeError("no", self.answer)
            return self.answer

    listing = {"resources": [{"name": "policyreports"}, {"name": "clusterpolicyreports"}]}
    assert serves(Listing(listing), "wgpolicyk8s.io/v1alpha2", "policyreports") is Served.SERVED
    assert serves(Listing({"resources": []}), "wgpolicyk8s.io/v1alpha2", "policyreports") is (
        Served.ABSENT
    )
    assert serves(Listing(404), "wgpolicyk8s.io/v1alpha2", "policyreports") is Served.ABSENT
    assert serves(Listing(503), "wgpolicyk8s.io/v1alpha2", "policyreports") is Served.UNAVAILABLE
