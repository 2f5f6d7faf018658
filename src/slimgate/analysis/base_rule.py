"""The finding for a recognised toolchain base: toolchain-base, full-language-base,
jdk-runtime or php-extension-toolchain, with the saving a multi-stage build would make.

The saving is the compressed size of the base's toolchain layers: the layers whose step
keeps toolchain packages (compilers, headers, build and version-control tools) and the
layers that carry the SDK (signature ``sdk`` patterns), less what the fixed image still
ships (``retained_fraction``: a JRE keeps about a third of a JDK).
"""

from __future__ import annotations

from collections.abc import Sequence

from slimgate.analysis import rules
from slimgate.analysis.base import Recognition
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, megabytes, shorten
from slimgate.analysis.patterns import search
from slimgate.analysis.signatures.remediations import remediation_for

# How each base rule names the base in its message; {name} is the base's display label.
_WHAT = {
    rules.TOOLCHAIN_BASE: "toolchain base {name}",
    rules.FULL_LANGUAGE_BASE: "{name} base keeps compilers",
    rules.JDK_RUNTIME: "JDK base",
    rules.PHP_EXTENSION_TOOLCHAIN: "php base keeps gcc ($PHPIZE_DEPS)",
}


def toolchain_layers(region: Sequence[StepFacts], recognition: Recognition) -> list[StepFacts]:
    """The steps of the base region whose layers carry the toolchain."""
    sdk = recognition.signature.sdk if recognition.signature is not None else ()
    return [
        facts
        for facts in region
        if facts.step.layer is not None and (facts.kept or search(sdk, facts.text))
    ]


def base_findings(facts: Facts, recognition: Recognition | None) -> list[Finding]:
    if recognition is None or recognition.rule is None:
        return []
    rule = recognition.rule
    end = recognition.end if recognition.end is not None else len(facts.steps) - 1
    region = facts.steps[: end + 1]
    layers = toolchain_layers(region, recognition)
    signature = recognition.signature
    if rule == rules.JDK_RUNTIME:
        remedy = remediation_for("jdk")
    else:
        remedy = remediation_for(signature.remedy_key if signature else recognition.ecosystem)
    toolchain_bytes = sum(f.size for f in layers)
    saving = int(toolchain_bytes * (1 - remedy.retained_fraction)) if layers else None
    largest = max(layers, key=lambda f: f.size) if layers else None
    base = recognition.base
    label = base.reference.rsplit("/", 1)[-1] if base.reference else base.name
    if rule == rules.FULL_LANGUAGE_BASE and signature is not None and not base.reference:
        label = signature.family
    how = base.method.value if base.method.value != "environment" else base.evidence.split("=")[0]
    what = _WHAT.get(rule, rule + " {name}").format(name=label)
    tail = f": saves ~{megabytes(saving)}" if saving else ""
    message = fit(
        f"{what} ({how}); {remedy.advice}{tail}",
        f"{what}; {remedy.advice}{tail}",
        f"{what}{tail}",
    )
    return [
        Finding(
            rule=rule,
            severity=rules.severity_of(rule),
            message=message,
            base=base,
            layer=largest.step.layer if largest else None,
            size=toolchain_bytes or None,
            created_by=shorten(largest.step.created_by) if largest else None,
            remediation=remedy.shape,
            saving=saving,
            source=facts.source,
        )
    ]
