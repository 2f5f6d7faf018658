"""The multi-stage shape a planner chooses; :mod:`slimgate.fix.assemble` writes it out.

A planner (one module per ecosystem under :mod:`slimgate.fix.ecosystems`) never writes
the whole file: it says what to add to the build stage, which extra stages to put in
between, and what the runtime stage is (base, copies, start command). Everything the
original declares for the runtime (LABEL, ENV, WORKDIR, EXPOSE, HEALTHCHECK, USER, ...)
is carried over by the assembler, with its comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slimgate.fix.model import Missing


@dataclass(frozen=True, slots=True)
class ExtraStage:
    name: str
    base: str  # an image or an earlier stage's name
    comment: str
    lines: tuple[str, ...]  # the instructions after FROM


@dataclass(frozen=True, slots=True)
class Start:
    """The rewritten start command, exec form; None leaves that instruction out."""

    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Runtime:
    base: str
    comment: str
    copies: tuple[str, ...]  # COPY --from=... lines
    start: Start | None  # None: keep the original ENTRYPOINT/CMD as written
    run: tuple[str, ...] = ()  # lines after the copies (runtime packages, TODO comments)
    user: tuple[str, ...] = ()  # lines that add and select a non-root user (no USER given)
    shell: bool = True  # the base has /bin/sh
    expose: tuple[str, ...] | None = None  # replaces the original EXPOSE values
    env: tuple[str, ...] = ()  # ENV lines to add
    drop_env: frozenset[str] = frozenset()  # build-only variables left out at run time
    workdir: str | None = None  # None: the original's working directory (if it set one)
    users: frozenset[str] = frozenset()  # users the base is known to have
    tools: frozenset[str] = frozenset()  # HEALTHCHECK probes the base has (curl, wget)


@dataclass(frozen=True, slots=True)
class Shape:
    ecosystem: str
    framework: str | None
    runtime: Runtime | None
    purpose: str = ""  # the build stage's comment
    after_from: tuple[str, ...] = ()  # lines right after the build stage's FROM
    before: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # before body block i
    replace: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # body block i's lines
    stages: tuple[ExtraStage, ...] = ()
    notes: tuple[str, ...] = ()
    missing: tuple[Missing, ...] = ()
    swap: bool = False  # one stage is enough: only the base changes (runtime.base)
    ships_context: bool = False  # the runtime stage copies the application's sources too
    not_counted: tuple[str, ...] = ()  # what the estimate cannot weigh, in words

    def cannot(self) -> bool:
        return bool(self.missing) or self.runtime is None


def needs(ecosystem: str, missing: Missing, *, framework: str | None = None) -> Shape:
    """The answer of a planner that cannot go on without ``missing``."""
    return Shape(ecosystem, framework, None, missing=(missing,))
