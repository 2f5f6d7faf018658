"""Go: ``CGO_ENABLED=0 go build`` in the Go image, the binary alone on distroless/static.

Shape of the Go and distroless documentation: a static binary needs no C library, so it
runs on ``gcr.io/distroless/static-debian12`` (CA certificates, tzdata, a ``nonroot`` user,
no shell). A program that uses cgo (``CGO_ENABLED=1``, ``-linkmode external``, C headers
installed for the build, a ``.go`` file that imports ``C``) links glibc and maybe more:
``distroless/base`` when only libc is needed, ``debian:*-slim`` with the libraries when
headers of other libraries were installed, ``alpine`` when it was built on musl.
"""

from __future__ import annotations

import re

from slimgate.fix import bases, entry, packages
from slimgate.fix.binary import binary_shape
from slimgate.fix.context import Context
from slimgate.fix.model import Missing
from slimgate.fix.shape import Shape, needs

BUILD_ENV = frozenset(
    {
        "CGO_ENABLED",
        "GOOS",
        "GOARCH",
        "GOARM",
        "GOAMD64",
        "GOPATH",
        "GOCACHE",
        "GOMODCACHE",
        "GOFLAGS",
        "GOPROXY",
        "GOPRIVATE",
        "GONOSUMDB",
        "GONOSUMCHECK",
        "GOSUMDB",
        "GO111MODULE",
        "GOTOOLCHAIN",
        "GOINSECURE",
        "GOWORK",
    }
)
STATIC = "gcr.io/distroless/static-debian12:nonroot"
BASE = "gcr.io/distroless/base-debian12:nonroot"
_IMPORT_C = re.compile(r'^\s*import\s+(?:"C"|\([^)]*"C")', re.MULTILINE)
_COMPILERS = frozenset({"gcc", "g++", "build-essential", "build-base", "musl-dev", "clang"})
_LIBC = frozenset(
    {
        "libc-dev",
        "libc6-dev",
        "musl-dev",
        "gcc",
        "g++",
        "build-essential",
        "build-base",
        "make",
        "pkg-config",
        "pkgconf",
        "git",
    }
)


def _output(argv: tuple[str, ...]) -> str | None:
    for i, word in enumerate(argv):
        if word == "-o" and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith("-o="):
            return word[3:]
    return None


def _uses_cgo(context: Context, argv_words: list[str], assigned: dict[str, str]) -> str | None:
    """Why the build needs cgo, or None."""
    original = context.original
    setting = assigned.get("CGO_ENABLED", original.env.get("CGO_ENABLED"))
    if setting == "0":
        return None
    if setting == "1":
        return "CGO_ENABLED=1"
    if any("linkmode external" in w or "linkmode=external" in w for w in argv_words):
        return "-linkmode external"
    headers = [p for p in original.packages if p.endswith(("-dev", "-devel")) and p not in _LIBC]
    if headers:
        return f"C headers installed ({', '.join(headers)})"
    compilers = [p for p in original.packages if p in _COMPILERS]
    if compilers:
        return f"a C compiler installed for the build ({', '.join(compilers)})"
    for name in context.files.names(".go")[:200]:
        text = context.files.read(name)
        if text is not None and _IMPORT_C.search(text):
            return f'{name} imports "C"'
    return None


def plan(context: Context) -> Shape:
    original = context.original
    builds = [
        (run, command)
        for run, command in original.all_commands()
        if command.program == "go" and command.argv[1:2] in (("build",), ("install",))
    ]
    notes: list[str] = []
    after_from: tuple[str, ...] = ()
    before: dict[int, tuple[str, ...]] = {}
    if builds:
        run, command = builds[-1]
        workdir = run.workdir
        output = _output(command.argv)
        artifact: str | None = None
        if context.options.artifact:
            artifact = entry.resolve(context.options.artifact, workdir)
        elif output is not None and not output.endswith("/"):
            artifact = entry.resolve(output, workdir)
        else:
            name = _default_name(context, command.argv)
            if name is not None:
                directory = "/go/bin" if command.argv[1] == "install" else workdir
                artifact = f"{directory.rstrip('/')}/{name}"
        cgo = _uses_cgo(context, list(command.argv), dict(command.assignments))
    else:
        starts = original.start()
        if starts[:2] != ("go", "run") or context.options.artifact:
            return _missing_binary("there is no go build or go install in the Dockerfile")
        target = next((w for w in starts[2:] if not w.startswith("-")), ".")
        artifact = "/usr/local/bin/app"
        before[len(original.blocks)] = (
            "# the original ran the program with go run; build it once here instead",
            f"RUN go build -o {artifact} {target}",
        )
        notes.append(f"the build stage now runs `go build -o {artifact} {target}` (was go run)")
        cgo = _uses_cgo(context, [], {})
    if artifact is None:
        return _missing_binary(
            "go build has no -o, and slimgate cannot tell the name go gives the binary "
            "(a go.mod module path and one main package at its root would say it)"
        )
    if cgo is None:
        if original.env.get("CGO_ENABLED") != "0":
            after_from = (
                "# a static binary: it needs no C library at run time",
                "ENV CGO_ENABLED=0",
            )
        runtime_base = STATIC
        reason = "the static binary alone, on distroless/static (no shell, no package manager)"
    else:
        notes.append(f"cgo is used ({cgo}): the binary links the C library")
        runtime_base, reason = "", ""
    split = packages.split(
        original.packages, "apk" if original.is_alpine() else "apt", bases.codename(original.tag)
    )
    runtime_packages = tuple(p for p in split.runtime if p not in ("ca-certificates", "tzdata"))
    run_lines: tuple[str, ...] = ()
    if cgo is not None or runtime_packages:
        if original.is_alpine():
            runtime_base = "alpine:3"
            manager = "apk"
        elif (
            split.unknown
            or runtime_packages
            or any(p.endswith("-dev") and p not in _LIBC for p in original.packages)
        ):
            runtime_base = f"debian:{bases.codename(original.tag) or 'bookworm'}-slim"
            manager = "apt"
        else:
            runtime_base, manager = BASE, ""
        reason = f"the binary and the libraries it links, on {runtime_base.split(':')[0]}"
        if manager:
            libs = tuple(p for p in split.runtime if p not in ("ca-certificates", "tzdata"))
            extra = ("ca-certificates", "tzdata") if manager == "apt" else ("ca-certificates",)
            run_lines = packages.install_lines(manager, (*libs, *extra)) + packages.todo_lines(
                split.unknown, artifact
            )
    return binary_shape(
        context,
        ecosystem="go",
        artifact=artifact,
        runtime_base=runtime_base,
        reason=reason,
        run_lines=run_lines,
        runs_in_one_go=("go", "run"),
        build_env=BUILD_ENV,
        purpose="build: compiles the Go program; nothing of this stage ships but the binary",
        before=before,
        notes=tuple(notes),
        after_from=after_from,
    )


_VALUE_FLAGS = frozenset(
    {
        "-o",
        "-ldflags",
        "-gcflags",
        "-asmflags",
        "-tags",
        "-p",
        "-mod",
        "-modfile",
        "-overlay",
        "-pkgdir",
        "-toolexec",
        "-C",
    }
)


def _default_name(context: Context, argv: tuple[str, ...]) -> str | None:
    """The name go build gives the binary of the main package at the module root: the
    module path's last element (``example.com/app/v2`` -> ``app``); None for anything else."""
    packages: list[str] = []
    skip = False
    for word in argv[2:]:
        if skip:
            skip = False
        elif word in _VALUE_FLAGS:
            skip = True
        elif not word.startswith("-"):
            packages.append(word)
    if packages not in ([], ["."]):
        return None
    text = context.files.read("go.mod") or ""
    match = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    if match is None:
        return None
    elements = match.group(1).strip('"').split("/")
    if len(elements) > 1 and re.fullmatch(r"v[2-9]\d*", elements[-1]):
        elements.pop()
    return elements[-1]


def _missing_binary(why: str) -> Shape:
    return needs(
        "go",
        Missing(
            "the path of the binary the build writes",
            "--artifact",
            why,
            example="--artifact /src/app",
        ),
    )
