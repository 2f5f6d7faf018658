"""decide(): rule actions, each mode, namespace overrides, and onRegistryError."""

from __future__ import annotations

from datetime import date

import pytest

from slimgate.analysis.complexity import too_complex
from slimgate.analysis.findings import Analysis, Finding, Severity
from slimgate.model import Subject
from slimgate.policy.decide import decide, decide_unreadable
from slimgate.policy.decision import Mode, RuleAction, Verdict
from slimgate.policy.model import REGISTRY_ERROR, Policy

TODAY = date(2026, 3, 1)
IMAGE = "registry.example/team/app:1.0"


def finding(rule: str) -> Finding:
    return Finding(rule=rule, severity=Severity.HIGH, message=f"{rule} found")


def analysis(*rules: str) -> Analysis:
    return Analysis(findings=tuple(finding(r) for r in rules), base=None, compressed_size=1)


RULES = {
    "toolchain-base": RuleAction.DENY,
    "oversize-layer": RuleAction.WARN,
    "dev-dependencies": RuleAction.OFF,
}


def policy(**kwargs: object) -> Policy:
    return Policy(rules=RULES, **kwargs)  # type: ignore[arg-type]


def test_clean_image_is_allowed() -> None:
    decision = decide(analysis(), Subject(), IMAGE, policy(), TODAY)
    assert decision.verdict is Verdict.ALLOW
    assert decision.enforced is Verdict.ALLOW
    assert decision.findings == ()


def test_deny_rule_denies_in_enforce_mode() -> None:
    decision = decide(
        analysis("toolchain-base", "oversize-layer"), Subject(), IMAGE, policy(), TODAY
    )
    assert decision.verdict is Verdict.DENY
    assert decision.mode is Mode.ENFORCE
    assert [(f.finding.rule, f.action) for f in decision.findings] == [
        ("toolchain-base", RuleAction.DENY),
        ("oversize-layer", RuleAction.WARN),
    ]


def test_warn_rule_only_warns() -> None:
    decision = decide(analysis("oversize-layer"), Subject(), IMAGE, policy(), TODAY)
    assert decision.verdict is Verdict.WARN


def test_off_rule_findings_are_dropped() -> None:
    decision = decide(analysis("dev-dependencies"), Subject(), IMAGE, policy(), TODAY)
    assert decision.verdict is Verdict.ALLOW
    assert decision.findings == ()


def test_unnamed_rule_gets_the_default_action() -> None:
    strict = Policy(rules={}, default_action=RuleAction.DENY)
    assert decide(analysis("new-rule"), Subject(), IMAGE, strict, TODAY).verdict is Verdict.DENY
    lenient = Policy(rules={})
    assert decide(analysis("new-rule"), Subject(), IMAGE, lenient, TODAY).verdict is Verdict.WARN


def test_warn_mode_turns_deny_into_warn_and_keeps_the_enforced_verdict() -> None:
    decision = decide(analysis("toolchain-base"), Subject(), IMAGE, policy(mode=Mode.WARN), TODAY)
    assert decision.verdict is Verdict.WARN
    assert decision.enforced is Verdict.DENY
    assert decision.mode is Mode.WARN


def test_audit_mode_allows_but_records() -> None:
    decision = decide(analysis("toolchain-base"), Subject(), IMAGE, policy(mode=Mode.AUDIT), TODAY)
    assert decision.verdict is Verdict.ALLOW
    assert decision.enforced is Verdict.DENY
    assert [f.finding.rule for f in decision.findings] == ["toolchain-base"]


def test_namespace_mode_overrides_the_policy_mode() -> None:
    p = policy(mode=Mode.ENFORCE, namespace_modes={"legacy": Mode.WARN, "lab": Mode.AUDIT})
    result = analysis("toolchain-base")
    assert decide(result, Subject(namespace="legacy"), IMAGE, p, TODAY).verdict is Verdict.WARN
    assert decide(result, Subject(namespace="lab"), IMAGE, p, TODAY).verdict is Verdict.ALLOW
    assert decide(result, Subject(namespace="prod"), IMAGE, p, TODAY).verdict is Verdict.DENY
    assert decide(result, Subject(), IMAGE, p, TODAY).verdict is Verdict.DENY


def test_namespace_override_can_be_stricter_than_the_policy_mode() -> None:
    p = policy(mode=Mode.AUDIT, namespace_modes={"prod": Mode.ENFORCE})
    decision = decide(analysis("toolchain-base"), Subject(namespace="prod"), IMAGE, p, TODAY)
    assert decision.verdict is Verdict.DENY
    assert decision.mode is Mode.ENFORCE


@pytest.mark.parametrize(
    ("on_error", "verdict", "action"),
    [
        (Verdict.ALLOW, Verdict.ALLOW, RuleAction.OFF),
        (Verdict.WARN, Verdict.WARN, RuleAction.WARN),
        (Verdict.DENY, Verdict.DENY, RuleAction.DENY),
    ],
)
def test_on_registry_error_decides_unreadable_images(
    on_error: Verdict, verdict: Verdict, action: RuleAction
) -> None:
    p = policy(on_registry_error=on_error)
    decision = decide_unreadable(IMAGE, Subject(), "connection refused", p, TODAY)
    assert decision.verdict is verdict
    assert decision.enforced is on_error
    (recorded,) = decision.findings
    assert recorded.action is action
    assert recorded.finding.rule == REGISTRY_ERROR
    assert IMAGE in recorded.finding.message
    assert "connection refused" in recorded.finding.message


def test_registry_error_is_softened_by_warn_mode() -> None:
    p = policy(on_registry_error=Verdict.DENY, mode=Mode.WARN)
    decision = decide_unreadable(IMAGE, Subject(), "timeout", p, TODAY)
    assert decision.verdict is Verdict.WARN
    assert decision.enforced is Verdict.DENY


def test_registry_error_message_stays_one_short_line() -> None:
    reason = "line one\nline two " + "x" * 300
    decision = decide_unreadable("r.example/" + "a" * 200, Subject(), reason, policy(), TODAY)
    message = decision.findings[0].finding.message
    assert "\n" not in message
    assert len(message) <= 120
    assert message.startswith("cannot read r.example/")


def test_rule_the_policy_does_not_name_gets_the_analysis_default() -> None:
    empty = Policy(rules={})
    assert empty.action_for("toolchain-base") is RuleAction.DENY
    assert empty.action_for("full-language-base") is RuleAction.WARN
    verdict = decide(analysis("build-in-final-image"), Subject(), IMAGE, empty, TODAY).verdict
    assert verdict is Verdict.DENY


@pytest.mark.parametrize(
    ("on_error", "verdict", "action"),
    [
        (Verdict.ALLOW, Verdict.ALLOW, RuleAction.OFF),
        (Verdict.WARN, Verdict.WARN, RuleAction.WARN),
        (Verdict.DENY, Verdict.DENY, RuleAction.DENY),
    ],
)
def test_a_too_complex_image_is_decided_by_on_registry_error(
    on_error: Verdict, verdict: Verdict, action: RuleAction
) -> None:
    """Also under ``allow`` the finding is recorded, as a registry error is."""
    complex_image = too_complex("59,871 history entries (limit 1,000)", 1)
    p = Policy(rules={"too-complex": RuleAction.DENY}, on_registry_error=on_error)
    decision = decide(complex_image, Subject(), IMAGE, p, TODAY)
    assert decision.verdict is verdict
    assert decision.enforced is on_error
    (recorded,) = decision.findings
    assert recorded.action is action
    assert recorded.finding.message.startswith("too complex to analyse: 59,871 history entries")


def test_a_too_complex_image_is_softened_by_warn_mode_and_allowed_by_audit_mode() -> None:
    complex_image = too_complex("more than 0.5 s of CPU time", 1)
    warned = decide(
        complex_image,
        Subject(),
        IMAGE,
        policy(on_registry_error=Verdict.DENY, mode=Mode.WARN),
        TODAY,
    )
    assert (warned.verdict, warned.enforced) == (Verdict.WARN, Verdict.DENY)
    audited = decide(
        complex_image,
        Subject(),
        IMAGE,
        policy(on_registry_error=Verdict.DENY, mode=Mode.AUDIT),
        TODAY,
    )
    assert (audited.verdict, audited.enforced) == (Verdict.ALLOW, Verdict.DENY)
