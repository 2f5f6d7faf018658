"""dev-dependencies carried into a Dockerfile's final stage by ``COPY --from=<stage>``.

A stage only referred to by ``COPY --from`` does not ship, but what the copy takes does:
``npm install`` in a ``deps`` stage, then ``COPY --from=deps /srv /srv`` in the final
stage ships every devDependency that install put in ``/srv/node_modules`` (the shape of
the distroless Node.js example with an install that keeps them). The copy carries them
when its source is the directory the install ran in (its ``WORKDIR``), a directory above
it, or that directory's ``node_modules`` or ``vendor``, and no later step of the stage
pruned them (``npm prune --omit=dev``). Sources in ``COPY --from`` are read from the
root of the stage (Dockerfile reference, "COPY --from").
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from slimgate.analysis import rules
from slimgate.analysis.dev_dependencies import dev_install, pruned_after, prunes
from slimgate.analysis.dockerfile_model import Dockerfile, Instruction, Stage, substitute, words
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, shorten
from slimgate.analysis.signatures.remediations import remediation_for
from slimgate.analysis.step_finding import step_finding

# Where an install of each ecosystem puts what it installs, under the directory it ran in;
# the others (pip, poetry, bundler) install outside it by default, so a copy of the working
# directory does not tell whether it carries them.
_INSTALLED_INTO = {"node": "node_modules", "php": "vendor"}


@dataclass(frozen=True, slots=True)
class _Install:
    directory: str  # the WORKDIR the install ran in
    ecosystem: str
    shown: str  # the command, as messages quote it
    line: int | None


def _workdir(current: str, value: str) -> str:
    target = words(value)[0] if words(value) else ""
    return posixpath.normpath(posixpath.join(current, target)) if target else current


def _installs(facts: Facts, instructions: Sequence[Instruction]) -> list[_Install]:
    """The installs with dev dependencies in ``facts`` (one stage's chain) that no later
    step of the chain pruned."""
    workdirs: dict[int | None, str] = {}
    current = "/"
    for instruction in instructions:
        if instruction.keyword == "WORKDIR":  # ``WORKDIR $APP_HOME`` after ``ENV APP_HOME=/app``
            current = _workdir(current, substitute(instruction.value, facts.env))
        workdirs[instruction.line] = current
    kept: list[_Install] = []
    env = dict(facts.env)
    for step in facts.steps:
        if step.step.instruction != "RUN":
            continue
        for command in step.commands:  # a later step's prune clears the earlier installs
            kept = [i for i in kept if not prunes(command, i.ecosystem, env)]
        local = dict(env)
        for position, command in enumerate(step.commands):
            local.update(command.assignments)
            row = dev_install(command, local)
            if (
                row is not None
                and row.ecosystem in _INSTALLED_INTO  # pip, bundler: outside the WORKDIR
                and not pruned_after(step.commands, position, row.ecosystem, local)
            ):
                directory = workdirs.get(step.step.line, "/")
                shown = shorten(" ".join(command.argv), 40)
                kept.append(_Install(directory, row.ecosystem, shown, step.step.line))
    return kept


def _sources(value: str) -> tuple[str | None, list[str]]:
    """The ``--from`` of a COPY and its sources, each an absolute path in that stage
    (shell form or JSON form: ``COPY --from=deps ["/app", "/app"]``)."""
    found = words(value)
    origin = next((w.partition("=")[2] for w in found if w.startswith("--from=")), None)
    rest = value.strip()
    while rest.startswith("--"):
        rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
    paths: list[str] = []
    if rest.startswith("["):
        try:
            loaded = json.loads(rest)
        except ValueError:
            loaded = None
        if isinstance(loaded, list) and all(isinstance(p, str) for p in loaded):
            paths = loaded[:-1]
    else:
        paths = [w for w in found if not w.startswith("--")][:-1]
    return origin, [posixpath.normpath(posixpath.join("/", p.rstrip("*"))) for p in paths]


def _carries(source: str, install: _Install) -> bool:
    directory = install.directory
    into = posixpath.join(directory, _INSTALLED_INTO.get(install.ecosystem, ""))
    return (
        source in (directory, into)
        or source == "/"
        or directory.startswith(source.rstrip("/") + "/")
    )


def carried_dev_findings(
    dockerfile: Dockerfile,
    chain: tuple[Stage, ...],
    facts: Facts,
    facts_of: Callable[[tuple[Stage, ...]], Facts],
) -> list[Finding]:
    """A dev-dependencies finding for each COPY of the final ``chain`` (whose ``facts``
    are given) that takes an earlier stage's dev dependencies; ``facts_of`` reads the
    chain of that stage."""
    by_line: Mapping[int | None, StepFacts] = {s.step.line: s for s in facts.steps}
    final_index = chain[-1].index
    shipped = {stage.index for stage in chain}  # stages the final image is built FROM
    findings: list[Finding] = []
    for instruction in (i for stage in chain for i in stage.instructions):
        if instruction.keyword != "COPY" or "--from=" not in instruction.value:
            continue
        origin, sources = _sources(instruction.value)
        stage = dockerfile.stage_named(origin) if origin else None
        step = by_line.get(instruction.line)
        if stage is None or stage.index >= final_index or stage.index in shipped or step is None:
            continue
        source_chain, _ = dockerfile.chain(stage)
        instructions = [i for s in source_chain for i in s.instructions]
        installs = _installs(facts_of(source_chain), instructions)
        hit = next(((s, i) for i in installs for s in sources if _carries(s, i)), None)
        if hit is None:
            continue
        source, install = hit
        remedy = remediation_for(install.ecosystem)
        name = stage.name or str(stage.index)
        where = step.step.where
        ran = f"line {install.line} ran {install.shown}"
        message = fit(
            f"{where} copies {source} from stage {name}, where {ran} with dev dependencies; "
            f"{remedy.advice}",
            f"{where} copies {source} from stage {name}, where {ran} with dev dependencies",
            f"{where} copies {shorten(source, 24)} from {shorten(name, 12)}: the dev "
            f"dependencies of line {install.line}",
        )
        findings.append(step_finding(rules.DEV_DEPENDENCIES, step, message, remedy, facts))
    return findings
