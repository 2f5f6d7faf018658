"""PolicyReport / openreports Report bodies (shapes from the two APIs' Go types)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slimgate.audit.outcomes import RuleResult, workload_results
from slimgate.reports.policyreport import (
    Flavour,
    carry_timestamps,
    report_body,
    same_content,
    timestamp,
)
from tests.support.audits import MB, oversize_layer, result, toolchain, unreadable, workload

NOW = datetime(2025, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)


def _results() -> list[RuleResult]:
    web = workload("shop", "Deployment", "web").run("app", result("reg/web:1", toolchain()), 3)
    api = workload("shop", "Deployment", "api").run(
        "app", result("reg/api:1", oversize_layer(1, 300 * MB)), 2
    )
    job = workload("shop", "CronJob", "nightly").run("job", unreadable("reg/job:1"))
    out: list[RuleResult] = []
    for builder in (web, api, job):
        out.extend(workload_results(builder.build()))
    return out


def test_policy_report_shape() -> None:
    body = report_body("shop", _results(), NOW)
    assert body["apiVersion"] == "wgpolicyk8s.io/v1alpha2"
    assert body["kind"] == "PolicyReport"
    assert body["metadata"] == {
        "name": "slimgate",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "slimgate"},
    }
    assert "source" not in body
    assert body["summary"] == {"pass": 18, "skip": 0, "warn": 1, "fail": 1, "error": 1}
    [fail] = [r for r in body["results"] if r["result"] == "fail"]
    assert fail["policy"] == "slimgate"
    assert fail["source"] == "slimgate"
    assert fail["rule"] == "toolchain-base"
    assert fail["severity"] == "high"
    assert fail["category"] == "Toolchain base image"
    assert fail["resources"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "namespace": "shop",
            "uid": "uid-web",
            "fieldPath": "spec.template.spec.containers{app}",
        }
    ]
    assert fail["timestamp"] == {"seconds": int(NOW.timestamp()), "nanos": 250_000_000}
    assert all(isinstance(v, str) for r in body["results"] for v in r["properties"].values())


def test_results_are_sorted_by_workload_then_rule() -> None:
    body = report_body("shop", list(reversed(_results())), NOW)
    keys = [
        (r["resources"][0]["kind"], r["resources"][0]["name"], r["rule"]) for r in body["results"]
    ]
    assert keys == sorted(keys)


def test_open_reports_flavour_has_a_top_level_source() -> None:
    body = report_body("shop", _results(), NOW, Flavour.OPEN_REPORTS)
    assert (body["apiVersion"], body["kind"], body["source"]) == (
        "openreports.io/v1alpha1",
        "Report",
        "slimgate",
    )
    assert body["summary"]["fail"] == 1


def test_an_empty_namespace_has_an_empty_report() -> None:
    body = report_body("gone", [], NOW)
    assert body["results"] == []
    assert body["summary"] == {"pass": 0, "skip": 0, "warn": 0, "fail": 0, "error": 0}


def test_unchanged_results_keep_their_first_timestamp_and_compare_equal() -> None:
    first = report_body("shop", _results(), NOW)
    later = report_body("shop", _results(), NOW + timedelta(hours=1))
    assert not same_content(first, later)
    later["results"] = carry_timestamps(later["results"], first["results"])
    assert same_content(first, later)


def test_a_changed_result_gets_the_new_timestamp() -> None:
    first = report_body("shop", _results(), NOW)
    changed = [r for r in _results() if r.resource.name != "web"]
    changed.extend(
        workload_results(
            workload("shop", "Deployment", "web").run("app", result("reg/web:2")).build()
        )
    )
    later = report_body("shop", changed, NOW + timedelta(hours=1))
    later["results"] = carry_timestamps(later["results"], first["results"])
    stamps = {
        (r["resources"][0]["name"], r["rule"]): r["timestamp"]["seconds"] for r in later["results"]
    }
    assert stamps[("web", "toolchain-base")] == timestamp(NOW + timedelta(hours=1))["seconds"]
    assert stamps[("api", "oversize-layer")] == timestamp(NOW)["seconds"]
    assert not same_content(first, later)


def test_every_result_has_a_severity() -> None:
    body = report_body("shop", _results(), NOW)
    severities = {r["result"]: r["severity"] for r in body["results"]}
    assert severities["pass"] == "info"
    assert severities["fail"] == "high"
    assert all(r["severity"] for r in body["results"])


def test_two_containers_with_the_same_finding_get_distinct_result_ids() -> None:
    pod = (
        workload("shop", "Deployment", "web")
        .run("app", result("reg/web:1", toolchain()))
        .run("sidecar", result("reg/web:1", toolchain()))
        .build()
    )
    body = report_body("shop", list(workload_results(pod)), NOW)
    ids = [r["properties"]["resultID"] for r in body["results"]]
    assert len(ids) == len(set(ids))
    fails = [r for r in body["results"] if r["result"] == "fail"]
    assert len(fails) == 2
    assert fails[0]["properties"]["resultID"] != fails[1]["properties"]["resultID"]
    assert {r["resources"][0]["fieldPath"] for r in fails} == {
        "spec.template.spec.containers{app}",
        "spec.template.spec.containers{sidecar}",
    }


def test_result_ids_are_stable_and_change_with_workload_image_and_namespace() -> None:
    def ids(namespace: str, name: str, image: str) -> set[str]:
        built = workload(namespace, "Deployment", name).run("app", result(image, toolchain()))
        body = report_body(namespace, list(workload_results(built.build())), NOW)
        return {r["properties"]["resultID"] for r in body["results"]}

    first = ids("shop", "web", "reg/web:1")
    assert ids("shop", "web", "reg/web:1") == first
    assert not ids("shop", "api", "reg/web:1") & first
    assert not ids("shop", "web", "reg/web:2") & first
    assert not ids("shop2", "web", "reg/web:1") & first


def test_a_cronjob_container_path_goes_through_the_job_template() -> None:
    body = report_body("shop", _results(), NOW)
    [job] = [r for r in body["results"] if r["resources"][0]["kind"] == "CronJob"]
    assert job["resources"][0]["fieldPath"] == "spec.jobTemplate.spec.template.spec.containers{job}"
