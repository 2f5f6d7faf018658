"""Write a :class:`~slimgate.fix.shape.Shape` out as the new Dockerfile text.

The build stage is the original stage, verbatim, under a stage name, less what only the
shipped image needs (EXPOSE, HEALTHCHECK, CMD, ENTRYPOINT, LABEL, STOPSIGNAL, VOLUME,
ONBUILD), which moves to the runtime stage with the comments written above it. ENV stays
in both (a variable the build alone uses may be left out of the runtime). The runtime
stage gets one WORKDIR, the working directory the original started in. A short comment
above each stage says why it exists.
"""

from __future__ import annotations

import re
import shlex

from slimgate.analysis.dockerfile_model import env_pairs
from slimgate.fix import entry
from slimgate.fix.original import Original
from slimgate.fix.shape import Runtime, Shape
from slimgate.fix.source import Block

RUNTIME_ONLY = frozenset(
    {
        "EXPOSE",
        "HEALTHCHECK",
        "CMD",
        "ENTRYPOINT",
        "LABEL",
        "MAINTAINER",
        "STOPSIGNAL",
        "VOLUME",
        "ONBUILD",
    }
)
_LAYERS = frozenset({"RUN", "COPY", "ADD"})
_AS = re.compile(r"\s+[Aa][Ss]\s+(\S+)\s*$")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup"})
_ROOT = frozenset({"root", "0", "0:0", "root:root"})


def builder_name(original: Original) -> str:
    return original.stage.name or "build"


def _from_lines(block: Block, name: str) -> list[str]:
    lines = list(block.lines)
    if _AS.search(lines[-1]) is None:
        lines[-1] = lines[-1].rstrip() + f" AS {name}"
    return lines


def _comment(text: str) -> list[str]:
    return [f"# {line}" if line else "#" for line in text.split("\n")]


def _emit(out: list[str], block: Block, lines: tuple[str, ...] | None = None) -> None:
    if block.gap and out and out[-1] != "":
        out.append("")
    out.extend(block.comments)
    out.extend(lines if lines is not None else block.lines)


def _builder(original: Original, shape: Shape, name: str) -> list[str]:
    out: list[str] = []
    if shape.purpose:
        out.extend(_comment(shape.purpose))
    out.extend(original.source.stage_from.comments)
    out.extend(_from_lines(original.source.stage_from, name))
    out.extend(shape.after_from)
    steps = [i for i, b in enumerate(original.blocks) if b.instruction.keyword in _LAYERS]
    last_step = steps[-1] if steps else -1
    for index, block in enumerate(original.blocks):
        out.extend(shape.before.get(index, ()))
        keyword = block.instruction.keyword
        if keyword in RUNTIME_ONLY or (keyword == "USER" and index > last_step):
            continue  # a USER after the last build step only matters at run time
        _emit(out, block, shape.replace.get(index))
    out.extend(shape.before.get(len(original.blocks), ()))
    return out


def _user_commands(original: Original, user: str) -> list[str]:
    """The commands of the original that create ``user`` (and its group)."""
    name = user.partition(":")[0]
    found: list[str] = []
    for _, command in original.all_commands():
        if command.program in _USER_TOOLS and (
            name in command.argv[1:] or command.program in ("groupadd", "addgroup")
        ):
            found.append(shlex.join(command.argv))
    return found if any(name in line for line in found) else []


def _user_lines(original: Original, runtime: Runtime, notes: list[str]) -> list[str]:
    user_blocks = [b for b in original.blocks if b.instruction.keyword == "USER"]
    if not user_blocks:
        return list(runtime.user)
    block = user_blocks[-1]
    user = block.instruction.value.strip()
    name = user.partition(":")[0]
    out = list(block.comments)
    if user in _ROOT:
        notes.append(
            f"the original runs as {user}; so does the runtime stage (consider a non-root user)"
        )
        return [*out, *block.lines]
    if name.isdigit() or name in runtime.users or name.startswith("$"):
        return [*out, *block.lines]
    created = _user_commands(original, user)
    if created and runtime.shell:
        return [*out, f"RUN {' && '.join(created)}", *block.lines]
    if created:
        notes.append(
            f"user {name} is created by a RUN the runtime base cannot run (no shell): "
            "the runtime stage uses the numeric user 65532 instead"
        )
        return [
            *out,
            "# the original's user, by number: this base has no useradd",
            "USER 65532:65532",
        ]
    notes.append(f"USER {user}: check that {runtime.base} has this user")
    return [*out, *block.lines]


def _needs_tool_note(value: str, runtime: Runtime) -> str | None:
    words = value.split()
    if not runtime.shell and "CMD" in words and "[" not in value:
        return (
            f"# TODO: {runtime.base} has no shell: write this HEALTHCHECK in exec form, "
            "or probe from the orchestrator"
        )
    for tool in ("curl", "wget"):
        if (tool in words or f'"{tool}"' in value) and tool not in runtime.tools:
            return (
                f"# TODO: {runtime.base} may not have {tool}: install it, "
                "or probe from the orchestrator"
            )
    return None


def _args_needed(original: Original, lines: list[str], declared: set[str]) -> list[str]:
    wanted: list[str] = []
    for line in lines:
        if line.lstrip().startswith("#"):
            continue
        for name in _VARIABLE.findall(line):
            if name in wanted:
                continue
            if name in original.stage_args or name in declared:
                wanted.append(name)
    return [f"ARG {original.stage_args.get(name, name)}" for name in wanted]


def _runtime(original: Original, shape: Shape, runtime: Runtime, notes: list[str]) -> list[str]:
    blocks = original.blocks
    labels: list[str] = []
    envs: list[str] = []
    late: list[str] = []
    starts: list[str] = []
    start_comments: list[str] = []
    for block in blocks:
        keyword = block.instruction.keyword
        if keyword in ("LABEL", "MAINTAINER"):
            _emit(labels, block)
        elif keyword == "ENV":
            names = {name for name, _ in env_pairs(block.instruction.value)}
            if names and names <= runtime.drop_env:
                continue
            _emit(envs, block)
        elif keyword == "EXPOSE" and runtime.expose is not None:
            late.extend(block.comments)
        elif keyword == "HEALTHCHECK":
            note = _needs_tool_note(block.instruction.value, runtime)
            late.extend(block.comments)
            if note is not None:
                late.append(note)
                notes.append(note.removeprefix("# TODO: "))
            late.extend(block.lines)
        elif keyword in ("EXPOSE", "VOLUME", "STOPSIGNAL", "ONBUILD"):
            _emit(late, block)
        elif keyword in ("ENTRYPOINT", "CMD"):
            if runtime.start is None:
                _emit(starts, block)
            else:
                start_comments.extend(block.comments)
    if runtime.expose is not None and runtime.expose:
        late.append(f"EXPOSE {' '.join(runtime.expose)}")
    if runtime.start is not None:
        starts = list(start_comments)
        if runtime.start.entrypoint is not None:
            starts.append(f"ENTRYPOINT {entry.exec_form(runtime.start.entrypoint)}")
        if runtime.start.cmd is not None:
            starts.append(f"CMD {entry.exec_form(runtime.start.cmd)}")
    workdir = runtime.workdir
    if workdir is None and any(b.instruction.keyword == "WORKDIR" for b in blocks):
        workdir = original.workdir
    body: list[str] = [*labels, *envs, *runtime.env]
    if workdir is not None:
        body.append(f"WORKDIR {workdir}")
    body.extend(runtime.copies)
    body.extend(runtime.run)
    body.extend(_user_lines(original, runtime, notes))
    body.extend(late)
    body.extend(starts)
    declared = {b.instruction.value.partition("=")[0].strip() for b in original.source.preamble}
    out = [*_comment(runtime.comment), f"FROM {runtime.base}"]
    out.extend(_args_needed(original, body, declared))
    out.extend(body)
    return out


def assemble(original: Original, shape: Shape, notes: list[str]) -> str:
    """The new Dockerfile (``\\n`` line endings, ending with one)."""
    assert shape.runtime is not None
    source = original.source
    out: list[str] = list(source.header)
    if out:
        out.append("")
    for block in source.preamble:
        _emit(out, block)
    if source.preamble:
        out.append("")
    name = builder_name(original)
    if shape.swap:
        out.extend(_comment(shape.runtime.comment))
        out.extend(source.stage_from.comments)
        out.append(f"FROM {shape.runtime.base}")
        for index, block in enumerate(original.blocks):
            _emit(out, block, shape.replace.get(index))
        if source.trailer:
            out.extend(["", *source.trailer])
        return "\n".join(out) + "\n"
    out.extend(_builder(original, shape, name))
    for stage in shape.stages:
        out.append("")
        out.extend(_comment(stage.comment))
        out.append(f"FROM {stage.base} AS {stage.name}")
        out.extend(stage.lines)
    out.append("")
    out.extend(_runtime(original, shape, shape.runtime, notes))
    if source.trailer:
        out.append("")
        out.extend(source.trailer)
    return "\n".join(out) + "\n"
