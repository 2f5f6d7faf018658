"""What the single stage of the original Dockerfile does, read once for every planner.

The working directory in effect at each instruction, the environment, the build
arguments, the shell commands of each RUN (``--mount``/``--network`` flags removed, heredoc
bodies read), the packages installed and kept, the user and the start command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from slimgate.analysis.base import split_reference
from slimgate.analysis.dockerfile_model import Dockerfile, Instruction, Stage, env_pairs
from slimgate.analysis.packages import kept_packages
from slimgate.analysis.shell import Command, commands
from slimgate.analysis.steps import steps_from_instructions
from slimgate.fix import entry
from slimgate.fix.source import Block, Source

_RUN_FLAG = re.compile(r"^\s*--[a-z-]+(?:=(?:\"[^\"]*\"|'[^']*'|\S)*)?\s+")
_COPY_FLAG = re.compile(r"^--([a-z-]+)(?:=(.*))?$")


def run_script(value: str) -> str:
    """The shell script of a RUN value: BuildKit flags removed, a heredoc's body read."""
    while (match := _RUN_FLAG.match(value)) is not None:
        value = value[match.end() :]
    (step,) = steps_from_instructions([("RUN", value, None)])
    return step.body


@dataclass(frozen=True, slots=True)
class Copy:
    """A COPY/ADD: its flags, sources and destination (as written)."""

    keyword: str
    flags: dict[str, str]
    sources: tuple[str, ...]
    destination: str


def parse_copy(instruction: Instruction) -> Copy | None:
    value = instruction.value.strip()
    if value.startswith("["):
        parsed = entry.parse(value)
        words = list(parsed.words)
        flags: dict[str, str] = {}
    else:
        try:
            words = shlex.split(value.split("\n", 1)[0])
        except ValueError:
            return None
        flags = {}
        while words and (match := _COPY_FLAG.match(words[0])) is not None:
            flags[match.group(1)] = match.group(2) or ""
            words.pop(0)
    if len(words) < 2:
        return None
    return Copy(instruction.keyword, flags, tuple(words[:-1]), words[-1])


@dataclass(frozen=True, slots=True)
class RunStep:
    index: int  # position in the stage
    block: Block
    script: str
    commands: tuple[Command, ...]
    workdir: str
    env: dict[str, str]


@dataclass(frozen=True, slots=True)
class Original:
    dockerfile: Dockerfile
    stage: Stage
    source: Source
    base: str  # FROM with build args substituted
    repository: str  # "golang", "mcr.microsoft.com/dotnet/sdk"
    tag: str  # "1.23-alpine" ("latest" when none)
    workdirs: tuple[str, ...]  # the working directory in effect at each instruction
    env: dict[str, str]  # the environment at the end of the stage (ENV only)
    runs: tuple[RunStep, ...]
    copies: tuple[tuple[int, Copy], ...]
    packages: tuple[str, ...]  # OS packages installed and not removed
    user: str | None  # the last USER
    entrypoint: entry.Command | None
    cmd: entry.Command | None
    stage_args: dict[str, str] = field(default_factory=dict)  # ARG name -> "ARG ..." value

    @property
    def workdir(self) -> str:
        """The working directory the image starts in (``/`` when none was set)."""
        return self.workdirs[-1] if self.workdirs else "/"

    @property
    def blocks(self) -> tuple[Block, ...]:
        return self.source.body

    def all_commands(self) -> Iterator[tuple[RunStep, Command]]:
        for run in self.runs:
            for command in run.commands:
                yield run, command

    def start(self) -> tuple[str, ...]:
        """What the image runs: ENTRYPOINT words then CMD words."""
        words: tuple[str, ...] = ()
        if self.entrypoint is not None:
            words += self.entrypoint.words
        if self.cmd is not None:
            words += self.cmd.words
        return words

    def program(self) -> str:
        """The program the start command names first ("" when none)."""
        first = self.entrypoint or self.cmd
        return first.program if first is not None else ""

    def is_alpine(self) -> bool:
        return "alpine" in self.tag or self.repository == "alpine"


def read(dockerfile: Dockerfile, source: Source) -> Original:
    stage = dockerfile.stages[0]
    repository, tag = split_reference(stage.base)
    workdir = "/"
    workdirs: list[str] = []
    env: dict[str, str] = {}
    runs: list[RunStep] = []
    copies: list[tuple[int, Copy]] = []
    scripts: list[Command] = []
    user: str | None = None
    entrypoint: entry.Command | None = None
    cmd: entry.Command | None = None
    stage_args: dict[str, str] = {}
    for index, block in enumerate(source.body):
        instruction = block.instruction
        keyword = instruction.keyword
        if keyword == "WORKDIR":
            workdir = entry.resolve(instruction.value.strip().strip("\"'"), workdir)
        elif keyword == "ENV":
            env.update(env_pairs(instruction.value))
        elif keyword == "ARG":
            name = instruction.value.strip().partition("=")[0].strip()
            stage_args[name] = instruction.value.strip()
        elif keyword == "USER":
            user = instruction.value.strip()
        elif keyword == "ENTRYPOINT":
            entrypoint = entry.parse(instruction.value)
            cmd = None  # an ENTRYPOINT resets the CMD of the image before it
        elif keyword == "CMD":
            cmd = entry.parse(instruction.value)
        elif keyword == "RUN":
            script = run_script(instruction.value)
            parsed = commands(script)
            scripts.extend(parsed)
            runs.append(RunStep(index, block, script, parsed, workdir, dict(env)))
        elif keyword in ("COPY", "ADD"):
            copied = parse_copy(instruction)
            if copied is not None:
                copies.append((index, copied))
        workdirs.append(workdir)
    variables = {**dockerfile.args, **env}
    return Original(
        dockerfile=dockerfile,
        stage=stage,
        source=source,
        base=stage.base,
        repository=repository,
        tag=tag,
        workdirs=tuple(workdirs),
        env=env,
        runs=tuple(runs),
        copies=tuple(copies),
        packages=kept_packages(scripts, variables, implied=False),
        user=user,
        entrypoint=entrypoint,
        cmd=cmd,
        stage_args=stage_args,
    )
