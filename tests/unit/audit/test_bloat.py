"""Bloat cost arithmetic: overlapping findings, caps, replicas, offenders."""

from __future__ import annotations

from datetime import UTC, datetime

from slimgate.analysis.findings import Finding, Severity
from slimgate.audit.bloat import bloat_bytes, offenders, workload_cost
from slimgate.audit.summary import summarize
from slimgate.policy.decision import DecidedFinding, Exemption, RuleAction
from tests.support.audits import MB, oversize_layer, result, toolchain, unreadable, workload


def test_a_clean_image_has_no_bloat() -> None:
    assert bloat_bytes(result("reg/clean:1")) == 0


def test_an_unreadable_image_has_no_known_bloat() -> None:
    assert bloat_bytes(unreadable("reg/x:1")) == 0


def test_base_saving_and_a_separate_oversize_layer_add_up() -> None:
    res = result(
        "reg/web:1",
        toolchain(200 * MB),
        oversize_layer(2, 250 * MB),
        layers=(200 * MB, 10 * MB, 250 * MB),
    )
    assert bloat_bytes(res) == 450 * MB


def test_two_findings_on_one_layer_count_that_layer_once_at_the_larger_figure() -> None:
    installed = DecidedFinding(
        Finding(
            rule="toolchain-installed",
            severity=Severity.HIGH,
            message="gcc installed and kept",
            layer=1,
            size=300 * MB,
            saving=120 * MB,
        ),
        RuleAction.DENY,
    )
    res = result("reg/web:1", installed, oversize_layer(1, 300 * MB))
    assert bloat_bytes(res) == 300 * MB


def test_bloat_never_exceeds_the_image() -> None:
    res = result("reg/web:1", toolchain(900 * MB), layers=(100 * MB, 100 * MB))
    assert bloat_bytes(res) == 200 * MB


def test_oversize_image_adds_nothing_of_its_own() -> None:
    whole = DecidedFinding(
        Finding(
            rule="oversize-image",
            severity=Severity.MEDIUM,
            message="image is 1.2 GB",
            size=1200 * MB,
        ),
        RuleAction.WARN,
    )
    assert bloat_bytes(result("reg/web:1", whole)) == 0


def test_workload_cost_is_bloat_times_live_replicas_per_container() -> None:
    audit = (
        workload("shop", "Deployment", "web")
        .run("app", result("reg/web:1", toolchain(300 * MB)), 4)
        .run("tools", result("reg/tools:1", oversize_layer(1, 250 * MB)), 4)
        .build()
    )
    assert workload_cost(audit) == 4 * 300 * MB + 4 * 250 * MB


def test_offenders_group_by_image_across_workloads_and_sort_by_cost() -> None:
    shared = result("reg/golang-app:1", toolchain(300 * MB))
    small = result("reg/small:1", oversize_layer(1, 210 * MB))
    audits = [
        workload("a", "Deployment", "one").run("app", shared, 2).build(),
        workload("b", "Deployment", "two").run("app", shared, 3).build(),
        workload("b", "Deployment", "three").run("app", small, 10).build(),
        workload("b", "Deployment", "clean").run("app", result("reg/clean:1"), 50).build(),
    ]
    top = offenders(audits)
    assert [o.image for o in top] == ["reg/small:1", "reg/golang-app:1"]
    small_o, golang = top
    assert small_o.cost == 2100 * MB
    assert (golang.replicas, golang.cost) == (5, 1500 * MB)
    assert [f"{w.namespace}/{w.name}" for w in golang.workloads] == ["a/one", "b/two"]
    [remedy] = golang.remedies
    assert remedy.saving == 300 * MB
    assert remedy.text.startswith("build in golang")
    assert len(offenders(audits, top=1)) == 1


def test_an_exempt_image_still_costs_and_is_marked() -> None:
    res = result("reg/web:1", toolchain(), exemption=Exemption(reason="legacy"))
    [offender] = offenders([workload("a", "Deployment", "w").run("app", res, 2).build()])
    assert offender.exempt
    assert offender.cost == 600 * MB


def test_summary_totals_per_namespace_and_cluster() -> None:
    audits = [
        workload("a", "Deployment", "one")
        .run("app", result("reg/go:1", toolchain(300 * MB)), 2)
        .build(),
        workload("b", "Deployment", "two")
        .run("app", result("reg/go:1", toolchain(300 * MB)), 1)
        .build(),
        workload("b", "CronJob", "job").run("job", unreadable("reg/x:1")).build(),
    ]
    summary = summarize(audits, generated=datetime(2025, 1, 1, tzinfo=UTC), cluster="kind")
    assert [(n.namespace, n.cost, n.replicas) for n in summary.namespaces] == [
        ("a", 600 * MB, 2),
        ("b", 300 * MB, 2),
    ]
    assert summary.cost == 900 * MB
    assert (summary.workloads, summary.images, summary.errors) == (3, 2, 1)
    assert summary.counts["fail"] == 2
    assert summary.counts["error"] == 1


def test_a_remediation_two_rules_share_is_listed_once_with_the_larger_saving() -> None:
    same = toolchain(300 * MB).finding.remediation
    build = DecidedFinding(
        Finding(
            rule="build-in-final-image",
            severity=Severity.HIGH,
            message="go build in the final image",
            layer=2,
            size=5 * MB,
            remediation=same,
            saving=5 * MB,
        ),
        RuleAction.DENY,
    )
    res = result("reg/web:1", toolchain(300 * MB), build)
    [offender] = offenders([workload("a", "Deployment", "w").run("app", res).build()])
    [remedy] = offender.remedies
    assert (remedy.rule, remedy.saving) == ("toolchain-base", 300 * MB)


def test_an_offender_says_whether_a_multi_stage_build_removes_its_bloat() -> None:
    toolchain_image = result("reg/go:1", toolchain())
    big_layer_image = result("reg/data:1", oversize_layer(1, 300 * MB))
    audit = (
        workload("shop", "Deployment", "web")
        .run("app", toolchain_image)
        .run("data", big_layer_image)
        .build()
    )
    by_image = {o.image: o for o in offenders([audit])}
    assert by_image["reg/go:1"].multi_stage_fix is True
    assert by_image["reg/data:1"].multi_stage_fix is False
