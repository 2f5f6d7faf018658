"""The analysis entry point: an image's manifest and config in, explained findings out.

Pure: no I/O, no configuration reading, and only the clock it is given. :class:`Knowledge`
carries what is configured (thresholds, resolved lineage, limits). The steps are: read the
history into steps and parse their shell once (:mod:`~slimgate.analysis.facts`), recognise
the base (:mod:`~slimgate.analysis.base`), work out the final stage
(:mod:`~slimgate.analysis.stage`), then run each rule. Findings come out most severe first,
then in layer order, at most ``limits.findings_per_rule`` of each rule (the rest
summarised). An image past a limit, or whose analysis spends more than the CPU budget on
the clock it is given, gets one ``too-complex`` finding instead
(:mod:`~slimgate.analysis.complexity`).
"""

from __future__ import annotations

from slimgate.analysis.base import recognise
from slimgate.analysis.base_rule import base_findings
from slimgate.analysis.builds import build_findings
from slimgate.analysis.complexity import capped, too_complex
from slimgate.analysis.dev_dependencies import dev_findings
from slimgate.analysis.facts import Facts, gather
from slimgate.analysis.findings import Analysis, Finding, Severity
from slimgate.analysis.installed import installed_findings
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.limits import Clock, Meter
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.sdk_copied import sdk_findings
from slimgate.analysis.size import size_findings
from slimgate.analysis.stage import scope_of
from slimgate.errors import TooComplex
from slimgate.model import ImageMetadata

_ORDER = {
    s: i
    for i, s in enumerate(
        (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
    )
}


def ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(
        sorted(findings, key=lambda f: (_ORDER[f.severity], f.layer if f.layer is not None else -1))
    )


def analyse_facts(
    facts: Facts, recognition: Recognition | None, meter: Meter | None = None
) -> list[Finding]:
    """The rules that read build steps (shared with the Dockerfile lint); the meter's CPU
    budget is checked between rules (raises :class:`~slimgate.errors.TooComplex`)."""
    meter = meter if meter is not None else Meter()
    scope = scope_of(facts.steps, recognition)
    findings: list[Finding] = []
    for rule in (installed_findings, sdk_findings, build_findings, dev_findings):
        meter.check()
        findings.extend(rule(facts, scope))
    return [*base_findings(facts, recognition), *findings]


def analyse(image: ImageMetadata, knowledge: Knowledge, clock: Clock | None = None) -> Analysis:
    """Every finding for ``image``, and its recognised base.

    ``clock`` (the calling thread's CPU time, in production) enables the CPU budget of
    ``knowledge.limits``; without it only the size limits apply.
    """
    meter = Meter(knowledge.limits, clock)
    try:
        facts = gather(image, meter)
        recognition = recognise(facts, dict(image.annotations), knowledge.lineage)
        findings = analyse_facts(facts, recognition, meter)
        findings.extend(size_findings(image, knowledge, facts.source))
        meter.check()
    except TooComplex as exc:
        return too_complex(str(exc), image.compressed_size)
    return Analysis(
        findings=capped(ordered(findings), knowledge.limits.findings_per_rule),
        base=recognition.base if recognition is not None else None,
        compressed_size=image.compressed_size,
    )
