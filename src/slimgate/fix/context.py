"""What every ecosystem planner is given, and the start-command rewrite they share."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from slimgate.fix import entry
from slimgate.fix.files import ProjectFiles
from slimgate.fix.model import FixOptions, Missing
from slimgate.fix.original import Original
from slimgate.fix.shape import Start

# Directories an official build image puts on PATH, where a bare program name is found.
_PATH = ("/usr/local/bin", "/usr/bin", "/bin", "/go/bin", "/usr/local/cargo/bin", "/usr/local/sbin")


@dataclass(frozen=True, slots=True)
class Context:
    original: Original
    files: ProjectFiles
    options: FixOptions
    builder: str  # the build stage's name


def runs_artifact(program: str, artifact: str, workdir: str) -> bool:
    """Whether ``program`` (as a start command names it) is the file ``artifact``."""
    if "/" in program:
        return entry.resolve(program, workdir) == artifact
    return posixpath.basename(artifact) == program and posixpath.dirname(artifact) in (
        *_PATH,
        workdir,
    )


def start_missing(why: str) -> Missing:
    return Missing(
        "the command the runtime image starts",
        "--start",
        why,
        example='--start \'["/app/server", "--port", "8080"]\'',
    )


def given_start(options: FixOptions) -> Start | None:
    if options.start is None:
        return None
    return Start(cmd=entry.parse_start(options.start).words)


def binary_start(
    original: Original,
    artifact: str,
    toolchain: tuple[tuple[str, ...], ...],
    shell: bool,
) -> Start | Missing:
    """The start command rewritten to run ``artifact`` (exec form).

    ``toolchain`` lists command prefixes that build and run in one go (``go run``, ``cargo
    run``): they become the artifact, with the arguments after ``--``.
    """
    ep, cmd = original.entrypoint, original.cmd
    first = ep or cmd
    if first is None or not first.words:
        return Start(entrypoint=(artifact,))
    if entry.uses_shell_features(first) and not shell:
        return start_missing(
            f"the start command `{first.raw.strip()}` needs a shell, which the runtime base has not"
        )
    words = first.words
    rest: tuple[str, ...] | None = None
    if runs_artifact(words[0], artifact, original.workdir):
        rest = words[1:]
    else:
        for prefix in toolchain:
            if words[: len(prefix)] == prefix:
                after = words[len(prefix) :]
                rest = after[after.index("--") + 1 :] if "--" in after else ()
                break
    if rest is None:
        return start_missing(
            f"the image starts `{' '.join(words)}`, which is not the binary {artifact}"
        )
    if ep is not None:
        return Start(entrypoint=(artifact, *rest), cmd=cmd.words if cmd is not None else None)
    return Start(cmd=(artifact, *rest))


def app_copies(context: Context, source_stage: str) -> tuple[str, ...]:
    """COPY lines that bring the application's files into the runtime stage: its working
    directory from ``source_stage``, or, when the original worked in ``/``, the original's
    own COPY lines from the build context again (copying ``/`` would copy the toolchain)."""
    original = context.original
    if original.workdir != "/":
        return (f"COPY --from={source_stage} {original.workdir} {original.workdir}",)
    lines: list[str] = []
    for index, copy in original.copies:
        if "from" not in copy.flags:
            lines.extend(original.blocks[index].lines)
    return tuple(lines)
