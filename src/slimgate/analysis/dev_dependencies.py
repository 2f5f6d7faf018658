"""dev-dependencies: dependency installs in the final image that include dev dependencies.

``npm ci`` installs devDependencies unless ``--omit=dev`` (or ``NODE_ENV=production`` in
the image environment, the command's prefix or an earlier ``export`` in the step); the
same for yarn, pnpm, poetry, uv, bundler and composer, and ``pip install -r
requirements-dev.txt``. The table is :data:`~slimgate.analysis.signatures.builds.DEV_INSTALLS`.
An install that a later command of the same step prunes (``npm ci && npm run build &&
npm prune --omit=dev``, :data:`~slimgate.analysis.signatures.builds.DEV_PRUNES`) leaves
no development dependency in its layer and is no finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from slimgate.analysis import rules
from slimgate.analysis.facts import Facts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, shorten
from slimgate.analysis.shell import Command
from slimgate.analysis.signatures.builds import DEV_INSTALLS, DEV_PRUNES, DevInstall, DevPrune
from slimgate.analysis.signatures.remediations import remediation_for
from slimgate.analysis.stage import Scope
from slimgate.analysis.step_finding import step_finding


def _has_flag(joined: str, flag: str) -> bool:
    """``flag`` among the arguments, alone or with a value that is not false
    (``--production=false`` asks for the dev dependencies)."""
    return (
        re.search(rf"(?:^|\s){re.escape(flag)}(?:\s|$|=(?!(?:false|0)(?:\s|$)))", joined)
        is not None
    )


def _production_env(row: DevInstall | DevPrune, env: Mapping[str, str]) -> bool:
    return any(env.get(name, "").strip().lower() in values for name, values in row.production_env)


def _groups(value: str) -> set[str]:
    return {name for name in re.split(r"[,:\s]+", value) if name}


def _excluded(row: DevInstall, args: Sequence[str], env: Mapping[str, str]) -> bool:
    """Whether ``--without`` or the row's ``without_env`` leaves out a dev group."""
    if not row.without_groups:
        return False
    groups = set(row.without_groups)
    if row.without_env and _groups(env.get(row.without_env, "")) & groups:
        return True
    for position, arg in enumerate(args):
        if arg.startswith("--without="):
            values = [arg.partition("=")[2]]
        elif arg == "--without":
            values = []
            for word in args[position + 1 :]:
                if word.startswith("-"):
                    break
                values.append(word)
        else:
            continue
        if any(_groups(value) & groups for value in values):
            return True
    return False


# Every program a row names: most commands run none of them.
_PROGRAMS = frozenset(program for row in DEV_INSTALLS for program in row.programs)


def dev_install(command: Command, env: Mapping[str, str]) -> DevInstall | None:
    """The table row when ``command`` installs development dependencies, else None."""
    if command.program not in _PROGRAMS:
        return None
    args = command.argv[1:]
    positional = [a for a in args if not a.startswith("-")]
    sub = positional[0] if positional else ""
    joined = " ".join(args)
    for row in DEV_INSTALLS:
        if command.program not in row.programs or sub not in row.subcommands:
            continue
        if any(flag in args for flag in row.skip_flags):
            return None
        if row.bare_only and len(positional) > (1 if sub else 0):
            return None
        if row.dev_markers:
            return row if any(re.search(m, joined) for m in row.dev_markers) else None
        if any(_has_flag(joined, flag) for flag in row.dev_flags):
            return row  # asked for, whatever the environment says
        if any(_has_flag(joined, flag) for flag in row.production_flags):
            return None
        scoped = {**env, **dict(command.assignments)}
        if _excluded(row, args, scoped):
            return None
        return None if _production_env(row, scoped) else row
    return None


def prunes(command: Command, ecosystem: str, env: Mapping[str, str]) -> bool:
    """Whether ``command`` removes the development dependencies of ``ecosystem``."""
    positional = [a for a in command.argv[1:] if not a.startswith("-")]
    sub = positional[0] if positional else ""
    joined = " ".join(command.argv[1:])
    scoped = {**env, **dict(command.assignments)}
    for row in DEV_PRUNES:
        if row.ecosystem != ecosystem or command.program not in row.programs:
            continue
        if sub not in row.subcommands:
            continue
        if any(_has_flag(joined, flag) for flag in row.production_flags) or _production_env(
            row, scoped
        ):
            return True
    return False


def pruned_after(
    commands: Sequence[Command], start: int, ecosystem: str, env: Mapping[str, str]
) -> bool:
    """Whether a command after ``commands[start]`` prunes ``ecosystem``'s dev dependencies;
    ``env`` is the environment ``commands[start]`` ran in (its own assignments applied)."""
    local = dict(env)
    for command in commands[start + 1 :]:
        local.update(command.assignments)
        if prunes(command, ecosystem, local):
            return True
    return False


def dev_findings(facts: Facts, scope: Scope) -> list[Finding]:
    findings: list[Finding] = []
    env = dict(facts.env)
    for step in facts.steps[scope.final_start :]:
        if step.step.instruction != "RUN":
            continue
        local = dict(env)
        for position, command in enumerate(step.commands):
            local.update(command.assignments)
            if command.program in ("bundle", "bundler") and "config" in command.argv:
                if "without" in command.argv and "development" in " ".join(command.argv):
                    env["BUNDLE_WITHOUT"] = local["BUNDLE_WITHOUT"] = "development"
                continue
            row = dev_install(command, local)
            if row is None or pruned_after(step.commands, position, row.ecosystem, local):
                continue
            remedy = remediation_for(row.ecosystem)
            where = step.step.where
            ran = shorten(" ".join(command.argv), 40)
            message = fit(
                f"{where} runs {ran} with dev dependencies; {remedy.advice}",
                f"{where} runs {ran} with dev dependencies",
            )
            findings.append(step_finding(rules.DEV_DEPENDENCIES, step, message, remedy, facts))
            break
    return findings
