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


def shown(step: StepFacts) -> str:
    """How a finding quotes its step: the command itself, without the ``|N NAME=value``
    build-arg prefix (whose values can run for hundreds of characters)."""
    if step.step.args and step.step.instruction == "RUN":
        return f"RUN {step.step.body}"
    return step.step.created_by


def quoted(step: StepFacts, facts: Facts) -> str:
    """The step as evidence: shortened, with the reason its layer is unknown first when
    history and layers disagree (so no size or layer is quoted for the wrong step)."""
    if facts.unpaired and step.step.layer is None:
        return shorten(f"[{facts.unpaired}] {shown(step)}", 160)
    return shorten(shown(step))


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
        created_by=quoted(step, facts),
        remediation=remedy.shape,
        saving=saving,
        source=facts.source,
    )
