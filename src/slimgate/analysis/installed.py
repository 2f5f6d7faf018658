"""toolchain-installed: compilers, headers and build tools a step installs and keeps.

A step that installs ``gcc`` and purges it in the same RUN leaves no compiler in its
layer; one that purges it in a *later* RUN still ships it in the earlier layer, so that
is a finding. JDK packages are reported as ``jdk-runtime`` instead. Steps that belong to
a recognised toolchain base are folded into the base's own finding.
"""

from __future__ import annotations

from slimgate.analysis import rules
from slimgate.analysis.facts import Facts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, listing, megabytes
from slimgate.analysis.signatures.remediations import remediation_for
from slimgate.analysis.stage import Scope
from slimgate.analysis.step_finding import step_finding


def installed_findings(facts: Facts, scope: Scope) -> list[Finding]:
    findings: list[Finding] = []
    for step in facts.steps:
        if scope.folded(step.index) or not step.kept:
            continue
        by_rule: dict[str, list[str]] = {}
        for kept in step.kept:
            if kept.klass.triggers:
                by_rule.setdefault(kept.klass.rule, []).append(kept.package)
        for rule, packages in by_rule.items():
            ecosystem = "jdk" if rule == rules.JDK_RUNTIME else "generic"
            if facts.builder == "nix" and not step.step.instruction:
                ecosystem = "nix"  # store paths in the image contents, not a RUN
            remedy = remediation_for(ecosystem)
            where = step.step.where
            saving = step.step.size
            tail = f" (~{megabytes(saving)})" if saving else ""
            verb = "keeps a JDK" if rule == rules.JDK_RUNTIME else "keeps"
            message = fit(
                f"{where} {verb} {listing(packages)}{tail}; {remedy.advice}",
                f"{where} {verb} {listing(packages)}{tail}",
                f"{where} {verb} {listing(packages, 1)}{tail}",
            )
            dropped = int(saving * (1 - remedy.retained_fraction)) if saving else None
            findings.append(step_finding(rule, step, message, remedy, facts, saving=dropped))
    return findings
