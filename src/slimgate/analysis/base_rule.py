"""The finding for a recognised toolchain base: toolchain-base, full-language-base,
jdk-runtime or php-extension-toolchain, with the saving a multi-stage build would make.

The saving is the compressed size of the base's toolchain layers: the layers whose step
keeps toolchain packages (compilers, headers, build and version-control tools) and the
layers that carry the SDK (signature ``sdk`` patterns), less what the fixed image still
ships (``retained_fraction``: a JRE keeps about a third of a JDK).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slimgate.analysis import rules
from slimgate.analysis.base import split_reference
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding, Method
from slimgate.analysis.messages import fit, megabytes, shorten
from slimgate.analysis.patterns import search
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.signatures.bases import JDK_APPLICATIONS, JDK_VENDORS
from slimgate.analysis.signatures.remediations import remediation_for

# How each base rule names the base in its message; {name} is the base's display label.
_WHAT = {
    rules.TOOLCHAIN_BASE: "toolchain base {name}",
    rules.FULL_LANGUAGE_BASE: "{name} base keeps compilers",
    rules.JDK_RUNTIME: "JDK base",
    rules.PHP_EXTENSION_TOOLCHAIN: "php base keeps gcc ($PHPIZE_DEPS)",
}


def toolchain_layers(
    region: Sequence[StepFacts], recognition: Recognition
) -> tuple[list[StepFacts], list[StepFacts]]:
    """The steps of the base region whose layers carry the toolchain, and of those the
    ones a fixed image would not ship: not the steps that install the runtime it still
    carries (their layer holds both, and the saving cannot tell them apart)."""
    signature = recognition.signature
    sdk = signature.sdk if signature is not None else ()
    runtime = signature.runtime if signature is not None else ()
    carrying = [
        facts
        for facts in region
        if facts.step.layer is not None and (facts.kept or search(sdk, facts.text))
    ]
    if not runtime:
        return carrying, carrying
    return carrying, [facts for facts in carrying if not search(runtime, facts.text)]


def _jdk_remedy(recognition: Recognition, jdk: StepFacts | None, env: Mapping[str, str]) -> str:
    """The JDK remediation for the application (by its variable or repository) or the
    vendor (by the base's reference, its JAVA_HOME or its JDK step) that the base shows."""
    base = recognition.base
    repository = split_reference(base.reference)[0] if base.reference else ""
    for name, application, key in JDK_APPLICATIONS:
        if name in env or repository == application:
            return key
    texts = (base.reference or "", base.evidence, jdk.text if jdk is not None else "")
    for pattern, key in JDK_VENDORS:
        if any(search((pattern,), text) for text in texts):
            return key
    return "jdk"


def base_findings(facts: Facts, recognition: Recognition | None) -> list[Finding]:
    if recognition is None or recognition.rule is None:
        return []
    rule = recognition.rule
    end = recognition.end if recognition.end is not None else len(facts.steps) - 1
    region = facts.steps[: end + 1]
    signature = recognition.signature
    layers: list[StepFacts] = []
    if recognition.layers is not None:
        sizes = facts.layer_sizes
        indices = [i for i in recognition.layers if i < len(sizes)]
        toolchain_bytes = sum(sizes[i] for i in indices)
        kept = {f.step.layer for f in facts.steps if any(k.klass.triggers for k in f.kept)}
        top = max(indices, key=lambda i: (sizes[i], i in kept)) if indices else None
        largest = next((f for f in facts.steps if top is not None and f.step.layer == top), None)
        top_layer = top
    else:
        carrying, layers = toolchain_layers(region, recognition)
        toolchain_bytes = sum(f.size for f in layers)
        named = layers or carrying
        largest = max(named, key=lambda f: f.size) if named else None
        top_layer = largest.step.layer if largest else None
    if recognition.remedy:
        remedy = remediation_for(recognition.remedy)
    elif rule == rules.JDK_RUNTIME:
        remedy = remediation_for(_jdk_remedy(recognition, largest, facts.env))
    else:
        remedy = remediation_for(signature.remedy_key if signature else recognition.ecosystem)
    saving = int(toolchain_bytes * (1 - remedy.retained_fraction)) if toolchain_bytes else None
    if saving and signature is not None and signature.jdk:
        # a JDK layer of a build tool's image: the fix still ships a JRE's share of it
        jre = remediation_for("jdk").retained_fraction
        saving = int(
            sum(
                f.size * (1 - (jre if search(signature.jdk, f.text) else remedy.retained_fraction))
                for f in layers
            )
        )
    base = recognition.base
    label = base.reference.rsplit("/", 1)[-1] if base.reference else base.name
    if rule == rules.FULL_LANGUAGE_BASE and signature is not None and not base.reference:
        label = signature.family
    how = base.method.value
    if base.method is Method.ENVIRONMENT:
        how = base.evidence.split("=")[0]
    elif base.method is Method.CONFIG:
        how = base.evidence.split(" ")[0]  # "entrypoint" or "cmd"
    what = _WHAT.get(rule, rule + " {name}").format(name=label)
    if rule == rules.JDK_RUNTIME and signature is None:
        what = f"JDK at run time ({label})"
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
            layer=top_layer,
            size=toolchain_bytes or None,
            created_by=shorten(largest.step.created_by)
            if largest and largest.step.created_by
            else None,
            remediation=remedy.shape,
            saving=saving,
            source=facts.source,
        )
    ]
