"""``decide``: findings + who runs the image + policy + today -> allow / warn / deny.

Pure: the same arguments always give the same decision, and the date is a parameter, so
the webhook, the operator and the CLI (which all call it through
:class:`slimgate.evaluation.Evaluator`) agree and tests need no clock.

1. Each finding gets its rule's action; findings of rules that are ``off`` are dropped.
   A ``too-complex`` finding (the image passed an analysis limit) gets the
   ``onRegistryError`` action and is kept even when that is ``allow`` (recorded as ``off``).
2. ``enforced`` is the worst action left: deny, else warn, else allow.
3. The mode (the namespace's, else the policy's) turns it into the verdict: ``enforce``
   keeps it, ``warn`` turns deny into warn, ``audit`` allows and only records.
4. An applicable exemption (see :mod:`slimgate.policy.exemptions`) allows the image; the
   findings and ``enforced`` are kept so reports can show what the exemption let through.

An image that could not be read is decided by :func:`decide_unreadable`: the policy's
``onRegistryError`` verdict with one ``registry-error`` finding, then steps 3 and 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from slimgate.analysis.findings import MAX_MESSAGE, Analysis, Finding
from slimgate.analysis.messages import shorten
from slimgate.analysis.rules import UNEVALUATED, severity_of
from slimgate.model import Subject
from slimgate.policy.decision import DecidedFinding, Decision, Mode, RuleAction, Verdict
from slimgate.policy.exemptions import find_exemption
from slimgate.policy.model import REGISTRY_ERROR, Policy

_VERDICT_OF_ACTION = {
    RuleAction.DENY: Verdict.DENY,
    RuleAction.WARN: Verdict.WARN,
    RuleAction.OFF: Verdict.ALLOW,
}


def apply_mode(enforced: Verdict, mode: Mode) -> Verdict:
    """What a driver does with ``enforced`` under ``mode``."""
    if mode is Mode.AUDIT:
        return Verdict.ALLOW
    if mode is Mode.WARN and enforced is Verdict.DENY:
        return Verdict.WARN
    return enforced


def _conclude(
    findings: tuple[DecidedFinding, ...],
    enforced: Verdict,
    image_reference: str,
    subject: Subject,
    policy: Policy,
    today: date,
) -> Decision:
    mode = policy.mode_for(subject.namespace)
    exemption = find_exemption(policy.exemptions, image_reference, subject, today)
    verdict = Verdict.ALLOW if exemption is not None else apply_mode(enforced, mode)
    return Decision(
        verdict=verdict, enforced=enforced, mode=mode, findings=findings, exemption=exemption
    )


def _decided(findings: Iterable[Finding], policy: Policy) -> tuple[DecidedFinding, ...]:
    decided = (DecidedFinding(finding, policy.action_for(finding.rule)) for finding in findings)
    return tuple(
        d for d in decided if d.action is not RuleAction.OFF or d.finding.rule in UNEVALUATED
    )


def decide(
    analysis: Analysis, subject: Subject, image_reference: str, policy: Policy, today: date
) -> Decision:
    """Decide about one analysed image; see the module docstring for the steps."""
    findings = _decided(analysis.findings, policy)
    enforced = Verdict.worst([_VERDICT_OF_ACTION[f.action] for f in findings])
    return _conclude(findings, enforced, image_reference, subject, policy, today)


def registry_error_finding(image_reference: str, reason: str) -> Finding:
    """The finding that names an unreadable image and why, within the message limit."""
    prefix = f"cannot read {shorten(image_reference, 60)}: "
    return Finding(
        rule=REGISTRY_ERROR,
        severity=severity_of(REGISTRY_ERROR),
        message=prefix + shorten(reason, MAX_MESSAGE - len(prefix)),
    )


def decide_unreadable(
    image_reference: str, subject: Subject, reason: str, policy: Policy, today: date
) -> Decision:
    """The ``onRegistryError`` decision for an image whose metadata could not be read.

    The finding's action is the configured one (``off`` stands for ``allow``: recorded,
    not acted on); mode and exemptions apply as for any other decision.
    """
    enforced = policy.on_registry_error
    finding = DecidedFinding(
        finding=registry_error_finding(image_reference, reason),
        action=policy.action_for(REGISTRY_ERROR),
    )
    return _conclude((finding,), enforced, image_reference, subject, policy, today)
