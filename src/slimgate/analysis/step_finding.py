"""A finding tied to the build step (and so the layer) that caused it.

The installed-toolchain, build, SDK and dev-dependency rules all report one step: its
layer index, compressed size and shortened ``created_by``, the ecosystem's multi-stage
shape and the image's source link. This is that one shape, so the rules only say what
differs: the rule, the message and the saving.
"""

from __future__ import annotations

from slimgate.analysis import rules
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import shorten
from slimgate.analysis.signatures.remediations import Remediation


def step_finding(
    rule: str,
    step: StepFacts,
    message: str,
    remedy: Remediation,
    facts: Facts,
    *,
    saving: int | None = None,
) -> Finding:
    return Finding(
        rule=rule,
        severity=rules.severity_of(rule),
        message=message,
        layer=step.step.layer,
        size=step.step.size,
        created_by=shorten(step.step.created_by),
        remediation=remedy.shape,
        saving=saving,
        source=facts.source,
    )
