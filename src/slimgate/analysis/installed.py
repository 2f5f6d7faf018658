"""toolchain-installed: compilers, headers and build tools a step installs and keeps.

A step that installs ``gcc`` and purges it in the same RUN leaves no compiler in its
layer; one that purges it in a *later* RUN still ships it in the earlier layer, so that
is a finding, and the message says that the later removal does not shrink the image.
JDK packages are reported as ``jdk-runtime`` instead. Steps that belong to
a recognised toolchain base are folded into the base's own finding.
"""

from __future__ import annotations

from slimgate.analysis import rules
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, listing, megabytes
from slimgate.analysis.signatures.packages import REMOVE_VERBS
from slimgate.analysis.signatures.remediations import remediation_for
from slimgate.analysis.stage import Scope
from slimgate.analysis.step_finding import step_finding

_RANK = {"jdk": 0, "language-sdk": 1, "compiler": 2, "build-tool": 3, "headers": 4}


def removed_later(facts: Facts, step: StepFacts, packages: list[str]) -> StepFacts | None:
    """A later step that removes one of ``packages``: the earlier layer still has them."""
    wanted = set(packages)
    for later in facts.steps[step.index + 1 :]:
        for command in later.commands:
            verbs = REMOVE_VERBS.get(command.program, ())
            if verbs and set(command.argv[1:]) & set(verbs) and wanted & set(command.argv[2:]):
                return later
    return None


def installed_findings(facts: Facts, scope: Scope) -> list[Finding]:
    findings: list[Finding] = []
    for step in facts.steps:
        if scope.folded(step.index) or not step.kept:
            continue
        by_rule: dict[str, list[str]] = {}
        # compilers and SDKs first: they are what the message must name
        for kept in sorted(step.kept, key=lambda k: _RANK.get(k.klass.name, len(_RANK))):
            if kept.klass.triggers:
                by_rule.setdefault(kept.klass.rule, []).append(kept.package)
        for rule, packages in by_rule.items():
            ecosystem = "jdk" if rule == rules.JDK_RUNTIME else "generic"
            if rule == rules.JDK_RUNTIME and any(p.endswith("-devel") for p in packages):
                ecosystem = "jdk-rpm"  # UBI/Fedora: the JRE is the -headless package
            if facts.builder == "nix" and not step.step.instruction:
                ecosystem = "nix"  # store paths in the image contents, not a RUN
            remedy = remediation_for(ecosystem)
            where = step.step.where
            saving = step.step.size
            tail = f" (~{megabytes(saving)})" if saving else ""
            verb = "keeps a JDK" if rule == rules.JDK_RUNTIME else "keeps"
            later = removed_later(facts, step, packages)
            if later is not None:
                note = f"removing them at {later.step.where} does not shrink the image"
                message = fit(
                    f"{where} keeps {listing(packages)}{tail}; {note}",
                    f"{where} keeps {listing(packages, 1)}{tail}; {note}",
                    f"{where} keeps {listing(packages, 1)}{tail}; later removal does not shrink it",
                )
            else:
                message = fit(
                    f"{where} {verb} {listing(packages)}{tail}; {remedy.advice}",
                    f"{where} {verb} {listing(packages)}{tail}",
                    f"{where} {verb} {listing(packages, 1)}{tail}",
                )
            dropped = int(saving * (1 - remedy.retained_fraction)) if saving else None
            findings.append(step_finding(rule, step, message, remedy, facts, saving=dropped))
    return findings
