"""C and C++: compile in the build stage, run the binary on the same distribution, slim.

A program compiled against one C library runs on the same release, so the runtime base
follows the build image: ``gcc:<N>`` and ``debian:<release>`` on ``debian:<release>-slim``,
``ubuntu`` on the same ``ubuntu`` tag, alpine on alpine. Which shared libraries the binary
needs cannot be known before it is built: the libraries named by ``-l`` flags and by the
``-dev`` packages installed are installed where slimgate knows their package, and the
runtime stage carries a TODO with the ``ldd`` command that lists them for certain.
"""

from __future__ import annotations

from slimgate.fix import bases, entry, packages
from slimgate.fix.context import Context, binary_start, given_start
from slimgate.fix.model import Missing
from slimgate.fix.shape import Runtime, Shape, Start, needs

_COMPILERS = frozenset({"gcc", "g++", "cc", "c++", "clang", "clang++"})
# gcc image major -> the Debian release it is built on (docker-library gcc, 2026).
GCC_RELEASES = {
    "12": "bookworm",
    "13": "bookworm",
    "14": "trixie",
    "15": "trixie",
    "latest": "trixie",
}
# -l flags -> Debian bookworm runtime packages (the C library's own need nothing).
LINKED = {
    "ssl": "libssl3",
    "crypto": "libssl3",
    "z": "zlib1g",
    "curl": "libcurl4",
    "pq": "libpq5",
    "sqlite3": "libsqlite3-0",
    "png": "libpng16-16",
    "jpeg": "libjpeg62-turbo",
    "uv": "libuv1",
    "pthread": "",
    "m": "",
    "dl": "",
    "rt": "",
    "c": "",
    "stdc++": "",
    "gcc_s": "",
}


def _runtime_base(original_repository: str, tag: str) -> str:
    if original_repository == "gcc":
        release = GCC_RELEASES.get(tag.split(".")[0].split("-")[0], "trixie")
        return f"debian:{bases.codename(tag) or release}-slim"
    if original_repository == "debian":
        return (
            f"debian:{tag.replace('-slim', '')}-slim" if tag != "latest" else "debian:stable-slim"
        )
    if original_repository == "ubuntu":
        return f"ubuntu:{tag}"
    if original_repository == "alpine":
        return f"alpine:{tag}"
    return "debian:bookworm-slim"


def plan(context: Context) -> Shape:
    original = context.original
    artifact: str | None = None
    linked: list[str] = []
    for run, command in original.all_commands():
        if command.program in _COMPILERS:
            argv = command.argv
            linked.extend(w[2:] for w in argv if w.startswith("-l") and len(w) > 2)
            if "-o" in argv and argv.index("-o") + 1 < len(argv) and "-c" not in argv:
                artifact = entry.resolve(argv[argv.index("-o") + 1], run.workdir)
    if context.options.artifact:
        artifact = entry.resolve(context.options.artifact, original.workdir)
    if artifact is None:
        program = original.program()
        if program and "/" in program:
            artifact = entry.resolve(program, original.workdir)
    if artifact is None:
        return needs(
            "c",
            Missing(
                "the path of the binary the build writes",
                "--artifact",
                "the compiler has no -o and the start command does not name a path",
                example="--artifact /src/build/app",
            ),
        )
    runtime_base = _runtime_base(original.repository, original.tag)
    alpine = runtime_base.startswith("alpine")
    manager = "apk" if alpine else "apt"
    split = packages.split(original.packages, manager, bases.codename(runtime_base))
    known = [LINKED[name] for name in linked if LINKED.get(name)]
    unknown = [f"-l{name}" for name in linked if name not in LINKED]
    install = tuple(dict.fromkeys([*split.runtime, *([] if alpine else known)]))
    todo = (
        f"# TODO: confirm the shared libraries {artifact} needs: run `ldd {artifact}` in the "
        "build stage and install the packages that provide them"
        + (f" ({', '.join(unknown + list(split.unknown))})" if unknown or split.unknown else ""),
    )
    family = bases.family_of(runtime_base)
    start = given_start(context.options) or binary_start(original, artifact, (), family.shell)
    if isinstance(start, Missing):
        return needs("c", start)
    assert isinstance(start, Start)
    return Shape(
        "c",
        None,
        Runtime(
            base=runtime_base,
            comment=f"runtime: the binary and the shared libraries it links, on {runtime_base}",
            copies=(f"COPY --from={context.builder} {artifact} {artifact}",),
            start=start,
            run=(*todo, *packages.install_lines(manager, install)),
            user=family.add_user,
            shell=family.shell,
            users=family.users,
            tools=family.tools,
        ),
        purpose="build: compiles the program; the compilers and headers stay here",
        notes=(f"confirm the shared libraries: `ldd {artifact}` in the build stage",),
        not_counted=(f"the binary ({artifact})",),
    )
