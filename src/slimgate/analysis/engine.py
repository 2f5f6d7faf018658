"""The analysis entry point: an image's manifest and config in, explained findings out.

Pure: no I/O, no clock, no configuration reading. :class:`Knowledge` carries what is
configured (thresholds, resolved lineage). The steps are: read the history into steps
and parse their shell once (:mod:`~slimgate.analysis.facts`), recognise the base
(:mod:`~slimgate.analysis.base`), work out the final stage (:mod:`~slimgate.analysis.stage`),
then run each rule. Findings come out most severe first, then in layer order.
"""

from __future__ import annotations

from slimgate.analysis.base import Recognition, recognise
from slimgate.analysis.base_rule import base_findings
from slimgate.analysis.builds import build_findings
from slimgate.analysis.dev_dependencies import dev_findings
from slimgate.analysis.facts import Facts, gather
from slimgate.analysis.findings import Analysis, Finding, Severity
from slimgate.analysis.installed import installed_findings
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.sdk_copied import sdk_findings
from slimgate.analysis.size import size_findings
from slimgate.analysis.stage import scope_of
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


def analyse_facts(facts: Facts, recognition: Recognition | None) -> list[Finding]:
    """The rules that read build steps (shared with the Dockerfile lint)."""
    scope = scope_of(facts.steps, recognition)
    return [
        *base_findings(facts, recognition),
        *installed_findings(facts, scope),
        *sdk_findings(facts, scope),
        *build_findings(facts, scope),
        *dev_findings(facts, scope),
    ]


def analyse(image: ImageMetadata, knowledge: Knowledge) -> Analysis:
    """Every finding for ``image``, and its recognised base."""
    facts = gather(image)
    recognition = recognise(facts, dict(image.annotations), knowledge.lineage)
    findings = analyse_facts(facts, recognition)
    findings.extend(size_findings(image, knowledge, facts.source))
    return Analysis(
        findings=ordered(findings),
        base=recognition.base if recognition is not None else None,
        compressed_size=image.compressed_size,
    )
