"""From evaluated images to PolicyReport results: one per workload, container image, rule."""

from __future__ import annotations

from datetime import date

from slimgate.analysis.complexity import too_complex
from slimgate.analysis.findings import Severity
from slimgate.audit.outcomes import DEFAULT_RULES, Outcome, RuleResult, workload_results
from slimgate.policy.decision import DecidedFinding, Exemption, RuleAction
from tests.support.audits import (
    MB,
    Result,
    decision,
    metadata,
    oversize_layer,
    result,
    toolchain,
    unreadable,
    workload,
)


def _by_rule(
    audit_results: tuple[RuleResult, ...], container: str = "app"
) -> dict[str, RuleResult]:
    return {r.rule: r for r in audit_results if r.container == container}


def test_denied_rule_fails_warned_rule_warns_others_pass() -> None:
    audit = workload("shop", "Deployment", "web").run(
        "app", result("reg/web:1", toolchain(), oversize_layer(1, 300 * MB)), 3
    )
    results = _by_rule(workload_results(audit.build()))
    assert set(results) == set(DEFAULT_RULES)
    assert results["toolchain-base"].outcome is Outcome.FAIL
    assert results["toolchain-base"].severity is Severity.HIGH
    assert results["oversize-layer"].outcome is Outcome.WARN
    passed = {rule for rule, r in results.items() if r.outcome is Outcome.PASS}
    assert passed == set(DEFAULT_RULES) - {"toolchain-base", "oversize-layer"}


def test_properties_are_strings_with_digest_base_size_layer_and_remediation() -> None:
    res = result("reg/web:1", toolchain(), oversize_layer(1, 300 * MB))
    audit = workload("shop", "Deployment", "web").run("app", res).build()
    results = _by_rule(workload_results(audit))
    base = results["toolchain-base"].properties
    assert all(isinstance(v, str) for r in results.values() for v in r.properties.values())
    assert base["digest"] == res.metadata.digest  # type: ignore[union-attr]
    assert base["base"] == "golang:1.23"
    assert base["compressedSize"] == str(335 * MB)
    assert base["remediation"].startswith("build in golang:1.23")
    assert base["remediation"].endswith(
        "(`slimgate fix Dockerfile` writes that multi-stage build from the image's Dockerfile)"
    )
    assert base["saving"] == str(300 * MB)
    layer = results["oversize-layer"].properties
    assert "slimgate fix" not in layer.get("remediation", "")  # a big layer is not a stage
    assert (layer["layer"], layer["layerSize"], layer["createdBy"]) == (
        "1",
        str(300 * MB),
        "COPY . /src",
    )
    assert results["toolchain-base"].resource.kind == "Deployment"
    assert results["toolchain-base"].category == "Toolchain base image"


def test_several_findings_of_one_rule_make_one_result_for_the_worst() -> None:
    res = result("reg/web:1", oversize_layer(0, 210 * MB), oversize_layer(2, 400 * MB))
    audit = workload("shop", "Deployment", "web").run("app", res).build()
    [layer] = [r for r in workload_results(audit) if r.rule == "oversize-layer"]
    assert layer.properties["layer"] == "2"
    assert layer.properties["findings"] == "2"
    assert layer.message.endswith("(and 1 more)")


def test_an_unreadable_image_is_one_error_result_with_its_reason() -> None:
    audit = (
        workload("shop", "Deployment", "web").run("app", unreadable("reg/x:1", "timed out")).build()
    )
    [error] = workload_results(audit)
    assert (error.rule, error.outcome) == ("registry-error", Outcome.ERROR)
    assert "timed out" in error.message
    assert error.properties["reason"] == "timed out"


def test_a_too_complex_image_is_one_error_result_naming_the_limit() -> None:
    analysis = too_complex("59,871 history entries (limit 1,000)", 0)
    (finding,) = analysis.findings
    res = Result(
        "reg/gcc:1",
        decision(DecidedFinding(finding, RuleAction.WARN)),
        metadata("reg/gcc:1", (MB,)),
        analysis,
    )
    [error] = workload_results(workload("shop", "Deployment", "gcc").run("app", res).build())
    assert (error.rule, error.outcome) == ("too-complex", Outcome.ERROR)
    assert error.message == (
        "cannot evaluate reg/gcc:1: too complex to analyse: 59,871 history entries (limit 1,000)"
    )
    assert error.category == "Analysis limits"


def test_an_exempted_image_skips_every_rule_with_the_reason() -> None:
    exemption = Exemption(reason="legacy billing, ticket 42", expires=date(2027, 1, 31))
    res = result("reg/web:1", toolchain(action=RuleAction.DENY), exemption=exemption)
    audit = workload("shop", "Deployment", "web").run("app", res).build()
    results = workload_results(audit)
    assert {r.outcome for r in results} == {Outcome.SKIP}
    assert len(results) == len(DEFAULT_RULES)
    assert results[0].properties["exemptionExpires"] == "2027-01-31"
    assert "legacy billing" in results[0].message


def test_each_container_of_a_workload_gets_its_own_results() -> None:
    audit = (
        workload("shop", "Deployment", "web")
        .run("app", result("reg/web:1", toolchain()))
        .run("sidecar", result("reg/proxy:1"))
        .build()
    )
    results = workload_results(audit)
    assert len(results) == 2 * len(DEFAULT_RULES)
    assert {r.outcome for r in results if r.container == "sidecar"} == {Outcome.PASS}


def test_a_rule_outside_the_configured_list_is_still_reported() -> None:
    res = result("reg/web:1", toolchain())
    audit = workload("shop", "Deployment", "web").run("app", res).build()
    results = workload_results(audit, rules=("oversize-image",))
    assert [(r.rule, r.outcome) for r in results] == [
        ("oversize-image", Outcome.PASS),
        ("toolchain-base", Outcome.FAIL),
    ]
