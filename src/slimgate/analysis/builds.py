"""build-in-final-image: the application is compiled or bundled in the image that ships.

A build command (table in :mod:`slimgate.analysis.signatures.builds`) in the final stage
is a finding when it builds the application: after a COPY/ADD of files from the build
context (``COPY . .``), or in a step that fetches sources itself (``git clone``). A
``go build`` before any source arrives builds a tool, not the application; the toolchain
itself is reported by the base or install rules. Compile commands (make, gcc...) in a step
that removes what it installed are the self-cleaning official-image pattern and pass; so
does a build between an install of every dependency and the prune of the development ones
in the same step (``npm ci && npm run build && npm prune --omit=dev``), and any build in a
step that removes the toolchain it installed for it (``apk add --virtual .build go && go
build && apk del .build``): the tools the build used leave no trace in its layer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

from slimgate.analysis import rules
from slimgate.analysis.dev_dependencies import dev_install, pruned_after
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, shorten
from slimgate.analysis.packages import toolchain_kept
from slimgate.analysis.shell import Command
from slimgate.analysis.signatures.builds import BUILD_COMMANDS, BuildCommand
from slimgate.analysis.signatures.packages import REMOVE_VERBS
from slimgate.analysis.signatures.remediations import remediation_for
from slimgate.analysis.stage import Scope
from slimgate.analysis.step_finding import step_finding


def _positional(command: Command) -> list[str]:
    return [arg for arg in command.argv[1:] if not arg.startswith("-") and "=" not in arg]


def _matches(row: BuildCommand, command: Command) -> str | None:
    """The command as messages show it (``go build``, ``mvn package``) when it matches."""
    if command.program not in row.programs:
        return None
    args = _positional(command)
    if row.first and not (args and any(fnmatch.fnmatchcase(args[0], p) for p in row.first)):
        return None
    if row.then and not (len(args) > 1 and any(fnmatch.fnmatchcase(args[1], p) for p in row.then)):
        return None
    shown = [command.program, *args[: bool(row.first) + bool(row.then)]]
    if row.anywhere:
        hits = [a for a in command.argv[1:] if any(fnmatch.fnmatchcase(a, p) for p in row.anywhere)]
        if not hits:
            return None
        shown.append(hits[0])
    return " ".join(shown)


def _self_cleaning(step: StepFacts) -> bool:
    removes = any(
        set(command.argv[1:]) & set(REMOVE_VERBS.get(command.program, ()))
        or "--auto-remove" in command.argv
        for command in step.commands
    )
    return removes and not any(kept.klass.triggers for kept in step.kept)


def _fetches(commands: Sequence[Command]) -> bool:
    return any(c.program == "git" and "clone" in c.argv for c in commands)


def _by_program(rows: Sequence[BuildCommand]) -> dict[str, tuple[BuildCommand, ...]]:
    index: dict[str, list[BuildCommand]] = {}
    for row in rows:
        for program in row.programs:
            index.setdefault(program, []).append(row)
    return {program: tuple(found) for program, found in index.items()}


# The rows that name each program, in table order: a command is only matched against
# those (most commands of a step run no build program at all).
_ROWS = _by_program(BUILD_COMMANDS)


def _pruned_build(step: StepFacts, position: int, ecosystem: str, env: Mapping[str, str]) -> bool:
    """Whether the build at ``commands[position]`` runs after an install of development
    dependencies of its ecosystem and before their prune, all in this one step."""
    commands = step.commands
    local = dict(env)
    installed = False
    for command in commands[:position]:
        local.update(command.assignments)
        row = dev_install(command, local)
        installed = installed or (row is not None and row.ecosystem == ecosystem)
    local.update(commands[position].assignments)
    return installed and pruned_after(commands, position, ecosystem, local)


def _toolchain_removed(step: StepFacts, position: int, env: Mapping[str, str]) -> bool:
    """Whether the toolchain the build at ``commands[position]`` used was installed by this
    step before it and removed after it (``apk add --virtual .build go && go build ... &&
    apk del .build``): a toolchain package present then is gone at the end of the step,
    and the step keeps none."""
    if any(kept.klass.triggers for kept in step.kept):
        return False
    variables = {**env, **dict(step.step.args)}
    present = toolchain_kept(step.commands[:position], variables)
    kept = {kept.package for kept in step.kept}
    return any(found.package not in kept for found in present)


def build_match(
    step: StepFacts, env: Mapping[str, str] | None = None
) -> tuple[BuildCommand, str] | None:
    """The first build command of a RUN step (and how to show it); self-cleaning
    compiles and builds whose dev dependencies the step prunes are ignored."""
    cleaning: bool | None = None  # read when a compile command first matches
    for position, command in enumerate(step.commands):
        for row in _ROWS.get(command.program, ()):
            shown = _matches(row, command)
            if shown is None:
                continue
            if row.compile:
                if cleaning is None:
                    cleaning = _self_cleaning(step)
                if cleaning:
                    continue
            elif _pruned_build(step, position, row.ecosystem, env or {}) or _toolchain_removed(
                step, position, env or {}
            ):
                continue
            return row, shown
    return None


def build_findings(facts: Facts, scope: Scope) -> list[Finding]:
    findings: list[Finding] = []
    copied: StepFacts | None = None
    for step in facts.steps[scope.final_start :]:
        instruction = step.step.instruction
        if instruction in ("COPY", "ADD") and "--from" not in step.step.body:
            copied = step
            continue
        if instruction != "RUN" or not step.commands:
            continue
        matched = build_match(step, facts.env)
        if matched is None or (copied is None and not _fetches(step.commands)):
            continue
        row, shown = matched
        remedy = remediation_for(row.ecosystem)
        where = step.step.where
        ran = shorten(shown, 28)
        after = f" after {shorten(copied.text, 24)}" if copied is not None else ""
        message = fit(
            f"{where} runs {ran}{after} in the final image; {remedy.advice}",
            f"{where} runs {ran}{after}; {remedy.advice}",
            f"{where} runs {ran} in the final image; {remedy.advice}",
            f"{where} runs {ran} in the final image",
        )
        findings.append(
            step_finding(
                rules.BUILD_IN_FINAL_IMAGE,
                step,
                message,
                remedy,
                facts,
                saving=step.step.size or None,
            )
        )
    return findings
