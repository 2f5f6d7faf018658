"""What the analysis reports about an image past its limits, and the cap on findings.

An image past one of the :mod:`~slimgate.analysis.limits` gets a single ``too-complex``
finding naming the limit, which the policy decides by ``onRegistryError`` (the image was
not judged on its merits). An image under them still gets at most ``findings_per_rule``
findings of each rule; the rest of a rule's findings become one summary finding, "and N
more", so a report stays readable and its size bounded.
"""

from __future__ import annotations

from collections.abc import Sequence

from slimgate.analysis import rules
from slimgate.analysis.findings import Analysis, Finding
from slimgate.analysis.messages import MESSAGE_BUDGET, shorten


def too_complex(reason: str, compressed_size: int) -> Analysis:
    """The analysis of an image that passed a limit: one ``too-complex`` finding."""
    finding = Finding(
        rule=rules.TOO_COMPLEX,
        severity=rules.severity_of(rules.TOO_COMPLEX),
        message=shorten(f"too complex to analyse: {reason}", MESSAGE_BUDGET),
    )
    return Analysis(
        findings=(finding,), base=None, compressed_size=compressed_size, too_complex=reason
    )


def capped(findings: Sequence[Finding], per_rule: int) -> tuple[Finding, ...]:
    """``findings`` (in order) with at most ``per_rule`` of each rule, each rule's rest
    summarised in one finding placed after the last one kept."""
    kept: list[Finding] = []
    dropped: dict[str, list[Finding]] = {}
    seen: dict[str, int] = {}
    for finding in findings:
        count = seen.get(finding.rule, 0)
        seen[finding.rule] = count + 1
        if count < per_rule:
            kept.append(finding)
        else:
            dropped.setdefault(finding.rule, []).append(finding)
    if not dropped:
        return tuple(findings)
    last = {finding.rule: position for position, finding in enumerate(kept)}
    out: list[Finding] = []
    for position, finding in enumerate(kept):
        out.append(finding)
        if last[finding.rule] == position and finding.rule in dropped:
            out.append(_summary(finding, dropped[finding.rule]))
    return tuple(out)


def _summary(example: Finding, rest: Sequence[Finding]) -> Finding:
    layers = [f.layer for f in rest if f.layer is not None]
    where = f" (layers {min(layers)} to {max(layers)})" if layers else ""
    return Finding(
        rule=example.rule,
        severity=example.severity,
        message=shorten(f"and {len(rest):,} more {example.rule} findings{where}", MESSAGE_BUDGET),
        remediation=example.remediation,
        source=example.source,
    )
