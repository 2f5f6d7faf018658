"""The report writer against the fake API: create, skip when unchanged, replace, empty, cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slimgate.audit.outcomes import Outcome, RuleResult, workload_results
from slimgate.operator.writer import OMITTED_ANNOTATION, ReportWriter, Write, cap
from slimgate.reports.policyreport import Flavour
from tests.support.audits import result, toolchain, workload

from .fakeapi import FakeApi

NOW = datetime(2025, 3, 1, tzinfo=UTC)
PR = ("wgpolicyk8s.io/v1alpha2", "policyreports")


def _results(image: str = "reg/web:1") -> list[RuleResult]:
    audit = workload("shop", "Deployment", "web").run("app", result(image, toolchain()), 2).build()
    return list(workload_results(audit))


def test_first_write_creates_then_unchanged_results_cost_no_request() -> None:
    api = FakeApi()
    writer = ReportWriter(api)
    assert writer.write("shop", _results(), NOW) == {Flavour.POLICY_REPORT: Write.CREATED}
    stored = api.objects[(*PR, "shop", "slimgate")]
    assert stored["summary"]["fail"] == 1
    calls = len(api.calls)
    later = NOW + timedelta(minutes=5)
    assert writer.write("shop", _results(), later) == {Flavour.POLICY_REPORT: Write.UNCHANGED}
    assert len(api.calls) == calls  # the last body is remembered


def test_a_changed_image_replaces_the_report() -> None:
    api = FakeApi()
    writer = ReportWriter(api)
    writer.write("shop", _results(), NOW)
    assert writer.write("shop", _results("reg/web:2"), NOW) == {
        Flavour.POLICY_REPORT: Write.REPLACED
    }
    stored = api.objects[(*PR, "shop", "slimgate")]
    assert {r["properties"]["image"] for r in stored["results"]} == {"reg/web:2"}


def test_no_results_empties_an_existing_report_and_creates_none() -> None:
    api = FakeApi()
    writer = ReportWriter(api)
    assert writer.write("empty", [], NOW) == {Flavour.POLICY_REPORT: Write.SKIPPED}
    assert (*PR, "empty", "slimgate") not in api.objects
    writer.write("shop", _results(), NOW)
    assert writer.write("shop", [], NOW) == {Flavour.POLICY_REPORT: Write.REPLACED}
    stored = api.objects[(*PR, "shop", "slimgate")]
    assert stored["results"] == []
    assert stored["summary"] == {"pass": 0, "skip": 0, "warn": 0, "fail": 0, "error": 0}


def test_a_report_changed_behind_our_back_is_read_again_after_a_conflict() -> None:
    api = FakeApi()
    writer = ReportWriter(api)
    writer.write("shop", _results(), NOW)
    key = (*PR, "shop", "slimgate")
    api.put(*PR, {**api.objects[key], "results": []})  # someone else wrote it
    assert writer.write("shop", _results("reg/web:2"), NOW) == {Flavour.POLICY_REPORT: Write.FAILED}
    assert writer.write("shop", _results("reg/web:2"), NOW) == {
        Flavour.POLICY_REPORT: Write.REPLACED
    }


def test_both_flavours_are_written() -> None:
    api = FakeApi()
    writer = ReportWriter(api, (Flavour.POLICY_REPORT, Flavour.OPEN_REPORTS))
    writer.write("shop", _results(), NOW)
    report = api.objects[("openreports.io/v1alpha1", "reports", "shop", "slimgate")]
    assert (report["kind"], report["source"]) == ("Report", "slimgate")
    assert writer.namespaces_with_reports() == {"shop"}


def test_cap_drops_pass_results_first_and_counts_them() -> None:
    results = _results()
    kept, omitted = cap(results, 3)
    assert omitted == len(results) - 3
    assert kept[0].outcome is Outcome.FAIL
    api = FakeApi()
    ReportWriter(api, max_results=3).write("shop", results, NOW)
    stored = api.objects[(*PR, "shop", "slimgate")]
    assert len(stored["results"]) == 3
    assert stored["metadata"]["annotations"][OMITTED_ANNOTATION] == str(omitted)
    # the summary counts what the report holds; the annotation, what it left out
    assert sum(stored["summary"].values()) == 3
    assert "configuration" not in stored  # v1alpha2 has no configuration.limits


def test_a_capped_openreports_report_records_its_limit() -> None:
    api = FakeApi()
    ReportWriter(api, (Flavour.OPEN_REPORTS,), max_results=3).write("shop", _results(), NOW)
    stored = api.objects[("openreports.io/v1alpha1", "reports", "shop", "slimgate")]
    assert stored["configuration"] == {"limits": {"maxResults": 3}}
    assert sum(stored["summary"].values()) == len(stored["results"]) == 3
    api2 = FakeApi()
    ReportWriter(api2, (Flavour.OPEN_REPORTS,)).write("shop", _results(), NOW)
    uncapped = api2.objects[("openreports.io/v1alpha1", "reports", "shop", "slimgate")]
    assert "configuration" not in uncapped


def test_a_report_of_that_name_managed_by_another_tool_is_left_alone() -> None:
    api = FakeApi()
    foreign = {
        "apiVersion": PR[0],
        "kind": "PolicyReport",
        "metadata": {"name": "slimgate", "namespace": "shop", "labels": {"team": "x"}},
        "results": [],
    }
    api.put(*PR, foreign)
    writer = ReportWriter(api)
    assert writer.write("shop", _results(), NOW) == {Flavour.POLICY_REPORT: Write.FOREIGN}
    assert api.objects[(*PR, "shop", "slimgate")]["results"] == []
