"""Python: dependencies into a virtual environment in the full image, copied into ``-slim``.

The Python packaging guides' shape: the build stage creates ``/opt/venv`` and activates it
(``VIRTUAL_ENV`` and ``PATH``) right before the first step that installs the application's
dependencies, so ``pip install -r``, ``poetry install`` and ``uv sync`` all install there;
compilers and ``-dev`` packages stay in the build stage. Development groups are left out
(``poetry install --only main``, ``uv sync --no-dev``). The runtime stage is
``python:<same version>-slim`` with the environment, the application and the shared
libraries the ``-dev`` packages were for.

On a full ``python`` image those headers come with the base (buildpack-deps installs
``libpq-dev`` and ``default-libmysqlclient-dev``), so a requirement that compiles against
one of them (``psycopg2``, ``mysqlclient``; ``psycopg`` loads libpq at run time) names no
``-dev`` package in the Dockerfile: the requirements files the install reads are what say
the runtime needs ``libpq5`` or ``libmariadb3``.
"""

from __future__ import annotations

import re

from slimgate.fix import bases, packages
from slimgate.fix.context import Context, app_copies, given_start
from slimgate.fix.model import Missing
from slimgate.fix.original import RunStep
from slimgate.fix.shape import Runtime, Shape, Start, needs

VENV = "/opt/venv"
_TOOLS = frozenset({"pip", "setuptools", "wheel", "poetry", "uv", "pipenv", "pdm", "poetry-core"})
_ACTIVATE = f'ENV VIRTUAL_ENV={VENV} PATH="{VENV}/bin:$PATH"'
BUILD_ENV = frozenset(
    {
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
        "POETRY_VERSION",
        "POETRY_HOME",
        "POETRY_VIRTUALENVS_CREATE",
        "POETRY_VIRTUALENVS_IN_PROJECT",
        "POETRY_NO_INTERACTION",
        "POETRY_CACHE_DIR",
        "UV_COMPILE_BYTECODE",
        "UV_LINK_MODE",
        "UV_PROJECT_ENVIRONMENT",
        "UV_NO_CACHE",
        "PIP_NO_INPUT",
    }
)
_RUNNERS = {("poetry", "run"), ("uv", "run"), ("pipenv", "run"), ("pdm", "run")}


def _installs_app(argv: tuple[str, ...], program: str) -> str | None:
    """Which tool this command installs the application's dependencies with, if it does."""
    words = [w for w in argv[1:] if not w.startswith("-")]
    if program in ("pip", "pip3") or (program.startswith("python") and argv[1:3] == ("-m", "pip")):
        rest = list(argv[3:] if program.startswith("python") else argv[1:])
        if not rest or rest[0] != "install":
            return None
        named = [w for w in rest[1:] if not w.startswith("-")]
        if "-r" in rest or "--requirement" in rest or any(w.startswith("-r") for w in rest[1:]):
            return "pip"
        if any(
            w not in _TOOLS and not re.match(r"^(pip|setuptools|wheel|poetry|uv|pipenv)\b", w)
            for w in named
        ):
            return "pip"
        return None
    if program == "poetry" and words[:1] == ["install"]:
        return "poetry"
    if program == "uv" and (words[:1] == ["sync"] or words[:2] == ["pip", "install"]):
        return "uv"
    if program == "pipenv" and words[:1] in (["install"], ["sync"]):
        return "pipenv"
    return None


# Distributions that link a C library the full python image provides headers for, with no
# wheel that bundles it (their ``-binary`` twins do): the headers package they build with.
_LINKS = {
    "psycopg2": "libpq-dev",
    "psycopg": "libpq-dev",
    "mysqlclient": "default-libmysqlclient-dev",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def _requirement_names(context: Context, run: RunStep, argv: tuple[str, ...]) -> list[str]:
    """The distributions a pip install names: on its command line and in the requirements
    files it reads (found in the build context by their path or name); one installed with
    the ``binary`` extra is left out."""
    words = list(argv)
    files: list[str] = []
    named: list[str] = []
    for i, word in enumerate(words[1:], 1):
        if word in ("-r", "--requirement") and i + 1 < len(words):
            files.append(words[i + 1])
        elif word.startswith("-r") and len(word) > 2:
            files.append(word[2:])
        elif word.startswith("--requirement="):
            files.append(word.partition("=")[2])
        elif not word.startswith("-") and words[i - 1] not in ("-r", "--requirement"):
            named.append(word)
    for path in files:
        relative = path.removeprefix(run.workdir.rstrip("/") + "/").removeprefix("./")
        text = context.files.read(relative) or context.files.read(relative.rsplit("/", 1)[-1])
        named.extend((text or "").splitlines())
    found = []
    for line in named:
        match = _NAME.match(line.partition("#")[0])
        if match and "binary" not in (match.group(2) or ""):  # psycopg[binary] bundles libpq
            found.append(match.group(1).lower().replace("_", "-"))
    return found


def _base_headers(context: Context, run: RunStep, argv: tuple[str, ...]) -> tuple[str, ...]:
    """The ``-dev`` packages of the full base that the requirements compile against."""
    original = context.original
    if "slim" in original.tag or original.is_alpine():
        return ()
    return tuple(
        dict.fromkeys(
            _LINKS[name] for name in _requirement_names(context, run, argv) if name in _LINKS
        )
    )


def _first_install(context: Context) -> tuple[RunStep, str, tuple[str, ...]] | None:
    for run in context.original.runs:
        for command in run.commands:
            tool = _installs_app(command.argv, command.program)
            if tool is not None:
                return run, tool, command.argv
    return None


def _runtime_base(context: Context) -> str:
    original = context.original
    return bases.slim_runtime(original.stage.raw_base, original.base, "python", original.tag)


def _without_dev(line: str, tool: str) -> str:
    if tool == "poetry" and not re.search(r"--(only|without|no-dev)\b", line):
        return re.sub(r"\bpoetry install\b", "poetry install --only main", line, count=1)
    if (
        tool == "uv"
        and "uv sync" in line
        and not re.search(r"--(no-dev|only-group|no-group)\b", line)
    ):
        return re.sub(r"\buv sync\b", "uv sync --no-dev", line, count=1)
    return line


def _start(context: Context) -> Start | None:
    given = given_start(context.options)
    if given is not None:
        return given
    original = context.original
    first = original.entrypoint or original.cmd
    if first is None or len(first.words) < 3 or (first.words[0], first.words[1]) not in _RUNNERS:
        return None
    words = first.words[2:]
    if original.entrypoint is not None:
        return Start(entrypoint=words, cmd=original.cmd.words if original.cmd else None)
    return Start(cmd=words)


def plan(context: Context) -> Shape:
    original = context.original
    if original.repository.rsplit("/", 1)[-1] != "python":
        # a UBI s2i python image (ubi9/python-311): its Python lives under /opt/app-root and
        # has no -slim tag, so a virtual environment cannot move onto python:*-slim
        return needs(
            "python",
            Missing(
                "a python image to run on",
                "a python:<version> FROM",
                f"the build runs on {original.base}, not on the python image, so slimgate "
                "cannot pick the matching python:*-slim (its -minimal variant is the runtime "
                "to try); build FROM python:<version>",
            ),
        )
    found = _first_install(context)
    runtime_base = _runtime_base(context)
    family = bases.family_of(runtime_base)
    if found is None:
        return Shape(
            "python",
            None,
            Runtime(
                base=runtime_base,
                comment="runtime: the same application on python slim "
                "(nothing is installed, so no build stage is needed)",
                copies=(),
                start=None,
            ),
            swap=True,
        )
    run, tool, argv = found
    if "--user" in argv:
        return needs(
            "python",
            Missing(
                "an install without --user",
                "--user",
                f"`{' '.join(argv)}` installs into root's home; drop --user (the build "
                f"stage installs into {VENV})",
            ),
        )
    notes: list[str] = []
    before: dict[int, tuple[str, ...]] = {}
    replace: dict[int, tuple[str, ...]] = {}
    if tool == "uv":
        before[run.index] = (
            "# the dependencies go into a virtual environment the runtime stage copies",
            f"ENV UV_PROJECT_ENVIRONMENT={VENV} {_ACTIVATE[4:]}",
        )
    else:
        before[run.index] = (
            "# the dependencies go into a virtual environment the runtime stage copies",
            f"RUN python -m venv {VENV}",
            _ACTIVATE,
        )
    block = original.blocks[run.index]
    changed = tuple(_without_dev(line, tool) for line in block.lines)
    if changed != block.lines:
        replace[run.index] = changed
        notes.append(f"{tool}: the development group is no longer installed")
    if tool == "pipenv":
        notes.append(
            f"pipenv: check that it installs into the active {VENV} (PIPENV_VENV_IN_PROJECT unset)"
        )
    manager = "apk" if original.is_alpine() else "apt"
    headers = _base_headers(context, run, argv) if tool == "pip" else ()
    if headers:
        notes.append(
            f"the requirements build against {', '.join(headers)} of the full image: "
            "the runtime installs the libraries they link"
        )
    installed = tuple(dict.fromkeys((*original.packages, *headers)))
    split = packages.split(installed, manager, bases.codename(original.tag))
    run_lines = packages.install_lines(manager, split.runtime) + packages.todo_lines(
        split.unknown, f"{VENV}/lib/python3*/site-packages/**/*.so"
    )
    return Shape(
        "python",
        tool,
        Runtime(
            base=runtime_base,
            comment="runtime: python slim with the virtual environment and the application; no "
            "compilers, no -dev packages, no development dependencies",
            copies=(
                f"COPY --from={context.builder} {VENV} {VENV}",
                *app_copies(context, context.builder),
            ),
            start=_start(context),
            run=run_lines,
            user=family.add_user,
            shell=family.shell,
            env=(_ACTIVATE,),
            drop_env=BUILD_ENV,
            users=family.users,
            tools=family.tools,
        ),
        purpose="build: installs the dependencies (compiling what needs it) into a "
        "virtual environment",
        before=before,
        replace=replace,
        notes=tuple(notes),
        ships_context=True,
        not_counted=("the installed dependencies",),
    )
