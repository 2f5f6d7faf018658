"""From an evaluated image to PolicyReport results: one per (workload, container image, rule).

The mapping follows the PolicyReport API (wgpolicyk8s.io/v1alpha2, kept unchanged by
openreports.io/v1alpha1):

* a finding whose rule is configured ``deny`` → ``fail``; configured ``warn`` → ``warn``;
* an enabled rule with no finding → ``pass``;
* an image that could not be read → one ``error`` result (rule ``registry-error``) with the
  reason, never a silent gap; one too complex to analyse → one ``error`` result (rule
  ``too-complex``) naming the limit it passed;
* an exempted image → ``skip`` for each rule, the exemption's reason as message.

Results describe what the policy says in ``enforce`` mode: a namespace in ``warn`` or
``audit`` mode still shows what it lets through (``properties.verdict`` has the verdict
that was applied).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from slimgate.analysis.findings import Finding, Severity
from slimgate.analysis.rules import (
    FIX_HINT,
    MULTI_STAGE_FIXES,
    REGISTRY_ERROR,
    RULE_IDS,
    TOO_COMPLEX,
    UNEVALUATED,
)
from slimgate.audit.results import ContainerAudit, WorkloadAudit
from slimgate.audit.workloads import WorkloadRef
from slimgate.policy.decision import DecidedFinding, RuleAction

POLICY = "slimgate"
SOURCE = "slimgate"
# The rules an evaluation can report on, in the order reports list them.
DEFAULT_RULES: tuple[str, ...] = tuple(r for r in RULE_IDS if r not in UNEVALUATED)

CATEGORIES: Mapping[str, str] = {
    "toolchain-base": "Toolchain base image",
    "full-language-base": "Toolchain base image",
    "jdk-runtime": "Toolchain base image",
    "php-extension-toolchain": "Toolchain base image",
    "toolchain-installed": "Build leftovers",
    "build-in-final-image": "Build leftovers",
    "sdk-copied": "Build leftovers",
    "dev-dependencies": "Build leftovers",
    "oversize-layer": "Image size",
    "oversize-image": "Image size",
    REGISTRY_ERROR: "Registry",
    TOO_COMPLEX: "Analysis limits",
}
DEFAULT_CATEGORY = "Image hygiene"

_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Outcome(StrEnum):
    """``result`` values of the PolicyReport API, worst last."""

    PASS = "pass"  # noqa: S105 - a PolicyReport result, not a password
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One PolicyReport result before it becomes JSON."""

    resource: WorkloadRef
    container: str
    image: str
    rule: str
    outcome: Outcome
    message: str
    severity: Severity | None = None
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def category(self) -> str:
        return CATEGORIES.get(self.rule, DEFAULT_CATEGORY)

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.resource.kind, self.resource.name, self.container, self.image, self.rule)


def _worst(findings: Sequence[DecidedFinding]) -> DecidedFinding:
    return max(
        findings,
        key=lambda d: (
            d.action == RuleAction.DENY,
            _SEVERITY_RANK[d.finding.severity],
            d.finding.saving or d.finding.size or 0,
        ),
    )


def _finding_properties(finding: Finding) -> dict[str, str]:
    properties: dict[str, str] = {}
    if finding.base is not None:
        properties["base"] = finding.base.reference or finding.base.name
        properties["baseEvidence"] = finding.base.evidence
    if finding.layer is not None:
        properties["layer"] = str(finding.layer)
    if finding.size is not None:
        properties["layerSize"] = str(finding.size)
    if finding.created_by:
        properties["createdBy"] = finding.created_by
    if finding.remediation:
        properties["remediation"] = finding.remediation
        if finding.rule in MULTI_STAGE_FIXES:
            properties["remediation"] += f" ({FIX_HINT})"
    if finding.saving is not None:
        properties["saving"] = str(finding.saving)
    if finding.source:
        properties["source"] = finding.source
    return properties


def _common_properties(audit: ContainerAudit) -> dict[str, str]:
    result = audit.result
    properties = {"image": result.image, "container": audit.container.container}
    if audit.container.field_path:
        properties["fieldPath"] = audit.container.field_path
    if result.metadata is not None:
        if result.metadata.digest:
            properties["digest"] = result.metadata.digest
        properties["platform"] = str(result.metadata.platform)
        properties["compressedSize"] = str(result.metadata.compressed_size)
    if result.analysis is not None and result.analysis.base is not None:
        base = result.analysis.base
        properties["base"] = base.reference or base.name
    properties["verdict"] = result.decision.verdict.value
    return properties


def container_results(
    resource: WorkloadRef, audit: ContainerAudit, rules: Sequence[str] = DEFAULT_RULES
) -> tuple[RuleResult, ...]:
    """The results for one container image of one workload, one per rule."""
    result = audit.result
    common = _common_properties(audit)

    def make(
        rule: str,
        outcome: Outcome,
        message: str,
        severity: Severity | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> RuleResult:
        return RuleResult(
            resource=resource,
            container=audit.container.container,
            image=result.image,
            rule=rule,
            outcome=outcome,
            message=message,
            severity=severity,
            properties={**common, **(extra or {})},
        )

    if result.error is not None:
        return (
            make(
                REGISTRY_ERROR,
                Outcome.ERROR,
                f"cannot evaluate {result.image}: {result.error}",
                Severity.MEDIUM,
                {"reason": result.error},
            ),
        )
    if result.analysis is not None and result.analysis.too_complex is not None:
        return (
            make(
                TOO_COMPLEX,
                Outcome.ERROR,
                f"cannot evaluate {result.image}: too complex to analyse: "
                f"{result.analysis.too_complex}",
                Severity.MEDIUM,
                {"reason": result.analysis.too_complex},
            ),
        )
    exemption = result.decision.exemption
    if exemption is not None:
        extra = {"exemption": exemption.reason}
        if exemption.expires is not None:
            extra["exemptionExpires"] = exemption.expires.isoformat()
        return tuple(
            make(rule, Outcome.SKIP, f"exempt: {exemption.reason}", extra=extra) for rule in rules
        )
    by_rule: dict[str, list[DecidedFinding]] = {}
    for decided in result.decision.findings:
        by_rule.setdefault(decided.finding.rule, []).append(decided)
    out: list[RuleResult] = []
    # The configured rules, then any rule a finding names that the list does not.
    for rule in [*rules, *sorted(set(by_rule) - set(rules))]:
        decided_list = by_rule.get(rule)
        if not decided_list:
            out.append(make(rule, Outcome.PASS, f"{rule}: nothing found"))
            continue
        worst = _worst(decided_list)
        outcome = Outcome.FAIL if worst.action == RuleAction.DENY else Outcome.WARN
        message = worst.finding.message
        extra = _finding_properties(worst.finding)
        if len(decided_list) > 1:
            message = f"{message} (and {len(decided_list) - 1} more)"
            extra["findings"] = str(len(decided_list))
        if worst.finding.saving is not None:
            extra["savingText"] = f"{worst.finding.saving / 1_000_000:.1f} MB"
        out.append(make(rule, outcome, message, worst.finding.severity, extra))
    return tuple(out)


def workload_results(
    audit: WorkloadAudit, rules: Sequence[str] = DEFAULT_RULES
) -> tuple[RuleResult, ...]:
    results: list[RuleResult] = []
    for container in audit.containers:
        results.extend(container_results(audit.workload.ref, container, rules))
    return tuple(sorted(results, key=lambda r: r.sort_key))


def summary_counts(outcomes: Iterable[Outcome | str]) -> dict[str, int]:
    """How many results of each outcome, every outcome named (a report's ``summary``)."""
    counts = Counter(str(o) for o in outcomes)
    return {o.value: counts.get(o.value, 0) for o in Outcome}
