"""``plan_fix``: from a single-stage Dockerfile to the multi-stage one its ecosystem documents.

Steps: lint the Dockerfile with the same signatures as ``slimgate lint``; a Dockerfile with
nothing to fix, or already multi-stage, is left alone. Otherwise find the ecosystem (the
base image the analysis recognised, else the build commands the stage runs), let that
ecosystem's planner choose the shape, write it out, and estimate the saving. A planner
that cannot tell something it needs returns what is missing and the flag that passes it;
nothing is guessed silently.
"""

from __future__ import annotations

from collections.abc import Callable

from slimgate.analysis import rules
from slimgate.analysis.dockerfile_lint import lint
from slimgate.analysis.dockerfile_model import Dockerfile
from slimgate.fix.assemble import assemble, builder_name
from slimgate.fix.context import Context
from slimgate.fix.ecosystems import cpp, dotnet, go, java, node, php, python, ruby, rust
from slimgate.fix.estimate import estimate
from slimgate.fix.files import NoFiles, ProjectFiles
from slimgate.fix.model import FixOptions, FixResult, StagePlan, Status
from slimgate.fix.original import Original, read
from slimgate.fix.shape import Shape
from slimgate.fix.source import restore, split

FIXABLE = frozenset(
    {
        rules.TOOLCHAIN_BASE,
        rules.TOOLCHAIN_INSTALLED,
        rules.BUILD_IN_FINAL_IMAGE,
        rules.SDK_COPIED,
        rules.FULL_LANGUAGE_BASE,
        rules.JDK_RUNTIME,
        rules.PHP_EXTENSION_TOOLCHAIN,
        rules.DEV_DEPENDENCIES,
    }
)

PLANNERS: dict[str, Callable[[Context], Shape]] = {
    "go": go.plan,
    "rust": rust.plan,
    "node": node.plan,
    "python": python.plan,
    "java": java.plan,
    "dotnet": dotnet.plan,
    "c": cpp.plan,
    "ruby": ruby.plan,
    "php": php.plan,
}

# Programs that say which ecosystem a stage builds, strongest first.
PROGRAMS: tuple[tuple[str, frozenset[str]], ...] = (
    ("go", frozenset({"go"})),
    ("rust", frozenset({"cargo", "rustc"})),
    ("java", frozenset({"mvn", "mvnw", "gradle", "gradlew", "java"})),
    ("dotnet", frozenset({"dotnet"})),
    ("node", frozenset({"npm", "yarn", "pnpm", "npx", "bun"})),
    ("python", frozenset({"pip", "pip3", "poetry", "uv", "pipenv"})),
    ("ruby", frozenset({"bundle", "gem", "rails"})),
    ("php", frozenset({"composer", "docker-php-ext-install", "pecl", "install-php-extensions"})),
    ("c", frozenset({"gcc", "g++", "cc", "c++", "clang", "clang++", "make", "cmake", "ninja"})),
)


def ecosystem_of(original: Original, recognised: str | None) -> str | None:
    if recognised is not None and recognised != "c":
        return recognised
    programs = {command.program for _, command in original.all_commands()}
    starts = set(original.start()[:1])
    for ecosystem, names in PROGRAMS:
        if programs & names or (ecosystem != "c" and starts & names):
            return ecosystem
    return recognised


def _missing_message(shape: Shape) -> str:
    if not shape.missing:
        return "slimgate cannot write a safe fix for this Dockerfile"
    parts = [
        f"{m.what}: {m.why}; pass {m.flag}" + (f" ({m.example})" if m.example else "")
        for m in shape.missing
    ]
    return "cannot write the fix without " + "; and ".join(parts)


def plan_fix(
    dockerfile: Dockerfile,
    text: str,
    files: ProjectFiles | None = None,
    options: FixOptions | None = None,
) -> FixResult:
    """The fix for ``dockerfile`` (parsed from ``text``)."""
    files = files or NoFiles()
    options = options or FixOptions()
    analysis = lint(dockerfile)
    findings = [f for f in analysis.findings if f.rule in FIXABLE]
    final = dockerfile.final
    assert final is not None
    if len(dockerfile.stages) > 1:
        if findings:
            found = ", ".join(sorted({f.rule for f in findings}))
            return FixResult(
                Status.CANNOT,
                f"already multi-stage, but the final stage still has {found}; slimgate fix "
                "rewrites single-stage Dockerfiles only: move the build out of the final stage "
                "by hand",
            )
        return FixResult(
            Status.MULTI_STAGE, "already multi-stage and the final stage is clean: nothing to fix"
        )
    if not findings:
        return FixResult(
            Status.CLEAN,
            f"nothing to fix: the image built from {final.base} ships no toolchain, build or "
            "dev dependencies slimgate knows",
        )
    if "onbuild" in final.base.rpartition(":")[2].split("@")[0]:
        # node:8-onbuild, python:3-onbuild: the base's ONBUILD triggers copy and install
        # the application, in steps this Dockerfile does not show
        return FixResult(
            Status.CANNOT,
            f"{final.base} copies and installs the application with ONBUILD steps the "
            "Dockerfile does not show: write them out (WORKDIR, COPY, the install) on the "
            "image without -onbuild, then run slimgate fix again",
        )
    original = read(dockerfile, split(text, dockerfile))
    recognised = analysis.base.ecosystem if analysis.base is not None else None
    ecosystem = ecosystem_of(original, recognised)
    if ecosystem is None or ecosystem not in PLANNERS:
        return FixResult(
            Status.CANNOT,
            f"cannot tell which ecosystem builds on {final.base} (no known base image or build "
            "command): no fix written",
        )
    context = Context(original, files, options, builder_name(original))
    shape = PLANNERS[ecosystem](context)
    if shape.cannot():
        return FixResult(
            Status.CANNOT,
            _missing_message(shape),
            ecosystem=ecosystem,
            framework=shape.framework,
            notes=shape.notes,
            missing=shape.missing,
        )
    assert shape.runtime is not None
    notes = list(shape.notes)
    new_text = assemble(original, shape, notes)
    stages = (
        StagePlan(context.builder, original.stage.raw_base, shape.purpose),
        *(StagePlan(s.name, s.base, s.comment) for s in shape.stages),
        StagePlan(None, shape.runtime.base, shape.runtime.comment),
    )
    what = f"{ecosystem}" + (f" ({shape.framework})" if shape.framework else "")
    summary = f"build on {original.stage.raw_base}, ship on {shape.runtime.base}"
    if shape.swap and shape.runtime.base == original.stage.raw_base:
        summary = (
            f"one stage on {shape.runtime.base}, {shape.runtime.comment.removeprefix('runtime: ')}"
        )
    return FixResult(
        Status.FIXED,
        f"{what}: {summary}",
        ecosystem=ecosystem,
        framework=shape.framework,
        text=restore(new_text, original.source.crlf, original.source.bom),
        stages=stages,
        estimate=estimate(original, shape, files),
        notes=tuple(dict.fromkeys(notes)),
    )
