"""Rust: ``cargo build --release`` with a dependency-caching layer, the binary alone after.

The dependency layer is the community's placeholder pattern (cargo-chef automates it):
copy ``Cargo.toml``/``Cargo.lock`` first, build the dependencies against an empty
``main``, then copy the sources; cargo rebuilds only the package when the sources change.
The copied sources are touched so cargo never keeps the placeholder binary. A glibc
binary runs on ``debian:<same release>-slim``; a musl target (``*-musl``, the alpine image)
links statically and runs on ``scratch``.

``cargo install --path DIR`` builds the package in DIR with the release profile and puts
its binary in ``<root>/bin`` (The Cargo Book, "cargo install": ``--root``, then
``$CARGO_INSTALL_ROOT``, then ``$CARGO_HOME``, which the rust image sets to
``/usr/local/cargo``, then ``~/.cargo``): the runtime stage copies that binary to
``/usr/local/bin``, outside a directory that would read as a Rust toolchain.
"""

from __future__ import annotations

from slimgate.analysis.shell import Command
from slimgate.fix import bases, entry, packages
from slimgate.fix.binary import binary_shape
from slimgate.fix.context import Context
from slimgate.fix.model import Missing
from slimgate.fix.original import RunStep
from slimgate.fix.project import toml_file
from slimgate.fix.shape import Shape, needs

BUILD_ENV = frozenset(
    {
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_INCREMENTAL",
        "CARGO_NET_GIT_FETCH_WITH_CLI",
        "RUST_VERSION",
    }
)


# Start commands that run another program: never the name of the installed binary.
_LAUNCHERS = frozenset({"cargo", "sh", "bash", "env", "tini", "dumb-init", "exec"})


def _option(argv: tuple[str, ...], name: str) -> str | None:
    for i, word in enumerate(argv):
        if word == name and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(name + "="):
            return word.partition("=")[2]
    return None


def _binary_name(context: Context, argv: tuple[str, ...]) -> str | None:
    named = _option(argv, "--bin")
    if named:
        return named
    manifest = toml_file(context.files, "Cargo.toml")
    if manifest is None:
        return None
    bins = manifest.get("bin")
    if isinstance(bins, list) and len(bins) == 1 and isinstance(bins[0], dict):
        name = bins[0].get("name")
        return name if isinstance(name, str) else None
    package = manifest.get("package")
    if isinstance(package, dict) and not bins and isinstance(package.get("name"), str):
        return str(package["name"])
    return None


def _caching_layer(
    context: Context, copy_index: int, build_index: int, argv: tuple[str, ...]
) -> dict[int, tuple[str, ...]]:
    files = context.files
    manifest = toml_file(files, "Cargo.toml")
    if manifest is None or "workspace" in manifest or "bin" in manifest:
        return {}
    placeholders = [p for p in ("src/main.rs", "src/lib.rs") if files.exists(p)]
    if "src/main.rs" not in placeholders:
        return {}
    lock = " Cargo.lock" if files.exists("Cargo.lock") else ""
    flags = " ".join(w for w in argv[2:] if w != "--locked" or lock)
    create = " && ".join(
        f"echo '{'fn main() {}' if p.endswith('main.rs') else ''}' > {p}" for p in placeholders
    )
    return {
        copy_index: (
            "# dependencies first, in a layer of their own: rebuilt only when Cargo.toml "
            "or Cargo.lock changes",
            f"COPY Cargo.toml{lock} ./",
            f"RUN mkdir -p src && {create} && cargo build {flags} && rm -rf src",
        ),
        build_index: (
            "# the real sources replace the placeholder: make cargo rebuild the package",
            f"RUN touch {' '.join(placeholders)}",
        ),
    }


def _install_root(context: Context, run: RunStep, argv: tuple[str, ...]) -> str:
    """Where ``cargo install`` puts ``bin/``."""
    original = context.original
    env = {**original.env, **run.env}
    root = (
        _option(argv, "--root")
        or env.get("CARGO_INSTALL_ROOT")
        or env.get("CARGO_HOME")
        or ("/usr/local/cargo" if original.repository.rsplit("/", 1)[-1] == "rust" else None)
        or "/root/.cargo"
    )
    return entry.resolve(root, run.workdir)


def _installed(context: Context, installs: list[tuple[RunStep, Command]]) -> Shape | None:
    """The shape for a ``cargo install --path`` build (None when there is none)."""
    if not installs:
        return None
    run, command = installs[-1]
    argv = command.argv
    path = _option(argv, "--path") or "."
    if context.options.artifact:
        artifact = entry.resolve(context.options.artifact, run.workdir)
    else:
        name = _binary_name(context, argv) if path.strip("./") == "" else _option(argv, "--bin")
        program = context.original.program()
        if name is None and program and "/" not in program and program not in _LAUNCHERS:
            name = program  # the start command runs the binary cargo install put on PATH
        if name is None:
            return _missing(f"cannot read the name of the binary cargo install --path {path} puts")
        artifact = f"{_install_root(context, run, argv)}/bin/{name}"
    destination = f"/usr/local/bin/{artifact.rsplit('/', 1)[-1]}"
    return _runtime(context, artifact, argv, run.workdir, (), destination=destination)


def plan(context: Context) -> Shape:
    original = context.original
    builds = [
        (run, command)
        for run, command in original.all_commands()
        if command.program == "cargo" and command.argv[1:2] == ("build",)
    ]
    installs = [
        (run, command)
        for run, command in original.all_commands()
        if command.program == "cargo"
        and command.argv[1:2] == ("install",)
        and _option(command.argv, "--path") is not None
    ]
    notes: list[str] = []
    before: dict[int, tuple[str, ...]] = {}
    if not builds and (installed := _installed(context, installs)) is not None:
        return installed
    if not builds:
        if original.start()[:2] != ("cargo", "run"):
            return _missing("there is no cargo build in the Dockerfile")
        argv: tuple[str, ...] = ("cargo", "build", "--release")
        target_dir = "release"
        workdir = original.workdir
        before[len(original.blocks)] = (
            "# the original compiled at start-up with cargo run; compile once here instead",
            "RUN cargo build --release",
        )
        notes.append("the build stage now runs `cargo build --release` (was cargo run at start-up)")
    else:
        run, command = builds[-1]
        argv = command.argv
        workdir = run.workdir
        profile = (
            "release"
            if "--release" in argv or "-r" in argv
            else _option(argv, "--profile") or "debug"
        )
        if profile == "debug":
            notes.append("the build has no --release: the runtime copies a debug build")
        target = _option(argv, "--target")
        target_dir = f"{target}/{profile}" if target else profile
        copies_before = [
            i
            for i, c in original.copies
            if i < run.index
            and "from" not in c.flags
            and any(s in (".", "./", "src", "src/") for s in c.sources)
        ]
        if copies_before:
            before.update(_caching_layer(context, copies_before[0], run.index, argv))
        if not before:
            notes.append(
                "no dependency-caching layer: needs Cargo.toml with src/main.rs, no workspace"
            )
    target_root = _option(argv, "--target-dir") or original.env.get("CARGO_TARGET_DIR") or "target"
    if context.options.artifact:
        artifact = entry.resolve(context.options.artifact, workdir)
    else:
        name = _binary_name(context, argv)
        if name is None:
            program = original.program()
            if program and f"/{target_dir}/" in entry.resolve(program, workdir) + "/":
                artifact = entry.resolve(program, workdir)
            else:
                return _missing(
                    "cannot read the binary's name from Cargo.toml or the start command"
                )
        else:
            artifact = entry.resolve(f"{target_root}/{target_dir}/{name}", workdir)
    return _runtime(context, artifact, argv, workdir, tuple(notes), before)


def _runtime(
    context: Context,
    artifact: str,
    argv: tuple[str, ...],
    workdir: str,
    notes: tuple[str, ...],
    before: dict[int, tuple[str, ...]] | None = None,
    destination: str | None = None,
) -> Shape:
    """The runtime stage for the binary at ``artifact``, built by ``argv`` (copied to
    ``destination``, by default the same path)."""
    original = context.original
    notes_list = list(notes)
    target_dir = _option(argv, "--target") or ""
    musl = "musl" in target_dir or original.is_alpine()
    manager = "apk" if original.is_alpine() else "apt"
    split = packages.split(original.packages, manager, bases.codename(original.tag))
    if musl:
        runtime_base = "scratch"
        run_lines: tuple[str, ...] = ()
        reason = "the statically linked (musl) binary alone, on scratch"
        if split.runtime or split.unknown:
            notes_list.append(
                f"packages {', '.join(split.runtime + split.unknown)} are not on scratch: "
                "link them statically"
            )
    else:
        runtime_base = f"debian:{bases.codename(original.tag) or 'bookworm'}-slim"
        run_lines = packages.install_lines(
            "apt",
            (
                *split.runtime,
                *(("ca-certificates",) if "ca-certificates" not in split.runtime else ()),
            ),
        ) + packages.todo_lines(split.unknown, artifact)
        reason = "the binary and the C libraries it links, on debian slim"
    return binary_shape(
        context,
        ecosystem="rust",
        artifact=artifact,
        runtime_base=runtime_base,
        reason=reason,
        run_lines=run_lines,
        runs_in_one_go=("cargo", "run"),
        build_env=BUILD_ENV,
        purpose="build: compiles the Rust program; nothing of this stage ships but the binary",
        before=before or {},
        notes=tuple(notes_list),
        destination=destination,
    )


def _missing(why: str) -> Shape:
    return needs(
        "rust",
        Missing(
            "the path of the binary cargo writes",
            "--artifact",
            why,
            example="--artifact target/release/app",
        ),
    )
