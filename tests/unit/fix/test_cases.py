"""Every fixture case: the golden diff, and what the fixed Dockerfile must be.

For each single-stage Dockerfile (public patterns, see each ``case.json``): the fix is
written; it parses with dockerfile-parse; its final stage carries no toolchain base, no
compiler or ``-dev`` package, no build and no dev-dependency install (the same signatures
``slimgate lint`` runs); and its start command runs what a build stage produced.
"""

from __future__ import annotations

import io
import posixpath

import pytest
from dockerfile_parse import DockerfileParser

from slimgate.analysis.dockerfile_lint import lint
from slimgate.fix import Status
from slimgate.fix.entry import parse as parse_start
from slimgate.fix.entry import resolve
from slimgate.fix.original import parse_copy
from slimgate.sources.dockerfile import parse_dockerfile
from tests.support.fix_cases import GOLDEN, UPDATE, Case, cases

CASES = cases()
IDS = [case.name for case in CASES]
# Findings a fixed final stage may still have: the Debian php image is flagged by its tag
# alone (it can keep $PHPIZE_DEPS), and the fix keeps that image on purpose.
TOLERATED = {"php-extension-toolchain"}
INTERPRETERS = {"node", "java", "dotnet", "python", "python3"}


def test_there_is_a_case_for_every_ecosystem_and_framework() -> None:
    fixed = [case.fix() for case in CASES]
    seen = {(r.ecosystem, r.framework) for r in fixed if r.status is Status.FIXED}
    ecosystems = {e for e, _ in seen}
    assert ecosystems >= {"go", "node", "python", "rust", "java", "dotnet", "c", "ruby", "php"}
    frameworks = {f for _, f in seen}
    assert frameworks >= {
        "next",
        "nuxt",
        "vite",
        "cra",
        "angular",
        "pip",
        "poetry",
        "uv",
        "spring-boot",
        "aspnet",
    }


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_golden_diff(case: Case) -> None:
    golden = GOLDEN / f"{case.name}.diff"
    diff = case.diff()
    if UPDATE:
        golden.write_text(diff, encoding="utf-8")
    assert diff == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_fix_parses_and_its_final_stage_ships_no_toolchain(case: Case) -> None:
    result = case.fix()
    assert result.status is Status.FIXED, result.message
    assert result.text is not None
    parser = DockerfileParser(fileobj=io.BytesIO(result.text.encode()), env_replace=False)
    keywords = [item["instruction"] for item in parser.structure]
    assert "FROM" in keywords
    fixed = parse_dockerfile(result.text)
    analysis = lint(fixed)
    rules = {finding.rule for finding in analysis.findings}
    assert rules <= TOLERATED, (rules, result.text)
    swap = len(fixed.stages) == 1
    assert swap or len(fixed.stages) >= 2


def _copied(stage_instructions: list[tuple[str, str]]) -> dict[str, str]:
    """destination -> source of the final stage's COPY --from lines."""
    copied: dict[str, str] = {}
    workdir = "/"
    for keyword, value in stage_instructions:
        if keyword == "WORKDIR":
            workdir = resolve(value.strip(), workdir)
        if keyword == "COPY" and "--from=" in value:
            from slimgate.analysis.dockerfile_model import Instruction

            copy = parse_copy(Instruction("COPY", value, 0))
            assert copy is not None
            copied[resolve(copy.destination, workdir)] = copy.sources[0]
    return copied


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_start_command_runs_what_the_build_stage_made(case: Case) -> None:
    result = case.fix()
    assert result.text is not None
    fixed = parse_dockerfile(result.text)
    final = fixed.stages[-1]
    instructions = [(i.keyword, i.value) for i in final.instructions]
    copied = _copied(instructions)
    starts = [parse_start(v) for k, v in instructions if k in ("ENTRYPOINT", "CMD")]
    if len(fixed.stages) == 1 or not starts:
        # one stage (only the base changed), or the base's own start (nginx)
        return
    workdir = "/"
    for keyword, value in instructions:
        if keyword == "WORKDIR":
            workdir = resolve(value.strip(), workdir)
    words = [w for start in starts for w in start.words]
    program = words[0]
    if posixpath.basename(program) in INTERPRETERS:
        target = next(
            (w for w in words[1:] if w.endswith((".mjs", ".js", ".jar", ".dll", ".py"))),
            None,
        )
        if target is None:
            return  # a launcher class or a module: the copied layers hold it
        path = resolve(target, workdir)
    elif "/" in program:
        path = resolve(program, workdir)
    else:
        return  # a program on PATH that the copied environment provides (gunicorn, rails)
    assert any(path == dest or path.startswith(dest.rstrip("/") + "/") for dest in copied), (
        path,
        copied,
    )


@pytest.mark.parametrize("name", ["go-api", "node-nuxt"])
def test_the_readme_shows_the_fix_as_slimgate_writes_it(name: str) -> None:
    readme = (GOLDEN.parents[2] / "README.md").read_text(encoding="utf-8")
    (case,) = [c for c in CASES if c.name == name]
    result = case.fix()
    assert result.text is not None
    assert result.estimate is not None
    assert result.text.rstrip() in readme
    assert f"**{result.estimate.text}**" in readme
