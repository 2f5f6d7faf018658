"""A Dockerfile as the analysis needs it: stages, their base and their instructions.

The adapter :mod:`slimgate.sources.dockerfile` fills these from the ``dockerfile-parse``
library; the lint (:mod:`slimgate.analysis.dockerfile_lint`) reads them. Syntax follows the
Dockerfile reference (https://docs.docker.com/reference/dockerfile/): ``FROM image [AS
name]``, build stages referred to by name or index in ``FROM`` and ``COPY --from``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

_VARIABLE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: "RUN", "COPY", ...
    value: str  # arguments, line continuations joined
    line: int  # 1-based line of the instruction in the file
    end_line: int = 0  # its last line (continuations, heredoc bodies); 0: same as ``line``

    @property
    def last_line(self) -> int:
        return max(self.line, self.end_line)


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    base: str  # the FROM image with build args substituted, or an earlier stage's name
    raw_base: str  # the FROM image as written (``golang:${GO_VERSION}``)
    name: str | None = None
    platform: str | None = None
    instructions: tuple[Instruction, ...] = ()
    line: int = 1


@dataclass(frozen=True, slots=True)
class Dockerfile:
    stages: tuple[Stage, ...]
    args: Mapping[str, str] = field(default_factory=dict)  # global ARGs before the first FROM
    preamble: tuple[Instruction, ...] = ()  # the instructions before the first FROM (ARGs)
    comments: tuple[Instruction, ...] = ()  # "COMMENT" lines, value without the ``#``
    build_args: Mapping[str, str] = field(default_factory=dict)  # ``--build-arg`` values given

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_named(self, name: str) -> Stage | None:
        """The earlier stage called ``name`` (case-insensitive) or with that index."""
        for stage in self.stages:
            if stage.name is not None and stage.name.lower() == name.lower():
                return stage
        if name.isascii() and name.isdigit() and int(name) < len(self.stages):  # not "²"
            return self.stages[int(name)]
        return None

    def chain(self, stage: Stage) -> tuple[tuple[Stage, ...], str]:
        """The stages an image built from ``stage`` contains, root first, and the root's
        base image (a ``FROM build`` stage carries everything ``build`` installed)."""
        chain = [stage]
        seen = {stage.index}
        while (parent := self.stage_named(chain[0].base)) is not None and parent.index < chain[
            0
        ].index:
            if parent.index in seen:
                break
            seen.add(parent.index)
            chain.insert(0, parent)
        return tuple(chain), chain[0].base


def substitute(text: str, args: Mapping[str, str]) -> str:
    """``$NAME``, ``${NAME}``, ``${NAME:-word}``, ``${NAME:+word}`` (and without ``:``)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(5)
        value = args.get(name)
        colon, operator, word = match.group(2), match.group(3), match.group(4)
        is_set = bool(value) if colon else value is not None
        if operator == "-":
            return value if is_set and value is not None else substitute(word, args)
        if operator == "+":
            return substitute(word, args) if is_set else ""
        return value or ""

    return _VARIABLE.sub(replace, text)


def words(value: str) -> list[str]:
    """An instruction's arguments split as the shell would (quotes removed), or at white
    space when the quoting does not balance."""
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


def env_pairs(value: str) -> list[tuple[str, str]]:
    """``ENV A=1 B="x y"`` or the legacy ``ENV A 1``."""
    found = words(value)
    if found and "=" not in found[0]:
        return [(found[0], " ".join(found[1:]))]
    return [(w.partition("=")[0], w.partition("=")[2]) for w in found if "=" in w]
