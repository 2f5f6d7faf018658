"""What ``slimgate fix`` is asked and what it answers: options, the plan and the estimate.

Values only; the planner (:mod:`slimgate.fix.plan`) fills them, the CLI renders them as a
diff, a rewritten file or JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    FIXED = "fixed"  # a multi-stage Dockerfile was written
    CLEAN = "clean"  # nothing to fix
    MULTI_STAGE = "multi-stage"  # already multi-stage, left alone
    CANNOT = "cannot"  # no safe fix: ``missing`` or ``message`` says why


@dataclass(frozen=True, slots=True)
class FixOptions:
    """What the user tells slimgate when the Dockerfile does not say it."""

    artifact: str | None = None  # the file the build produces (binary, jar, dll)
    output_dir: str | None = None  # the directory the build writes (dist, .output, publish)
    start: str | None = None  # the command the runtime image starts


@dataclass(frozen=True, slots=True)
class Missing:
    """Something slimgate needs and cannot tell, and the flag that passes it."""

    what: str  # "the binary go build writes"
    flag: str  # "--artifact"
    why: str  # "go build has no -o and the CMD does not run the binary"
    example: str = ""  # "--artifact /src/app"


@dataclass(frozen=True, slots=True)
class StagePlan:
    name: str | None
    base: str
    purpose: str


@dataclass(frozen=True, slots=True)
class Part:
    """One addend of an image size: a base image or application layers."""

    label: str  # "golang:1.23" or "application layers (build context)"
    size: int | None  # compressed bytes; None: not known
    source: str  # where the figure comes from


@dataclass(frozen=True, slots=True)
class Estimate:
    before: tuple[Part, ...]
    after: tuple[Part, ...]
    not_counted: tuple[str, ...] = ()  # what neither side includes, in words

    @staticmethod
    def _total(parts: tuple[Part, ...]) -> int | None:
        if any(part.size is None for part in parts):
            return None
        return sum(part.size or 0 for part in parts)

    @property
    def before_total(self) -> int | None:
        return self._total(self.before)

    @property
    def after_total(self) -> int | None:
        return self._total(self.after)

    @property
    def text(self) -> str:
        """``~297 MB → ~2 MB`` (``?`` for a side with an unknown part)."""
        return f"{approximate(self.before_total)} → {approximate(self.after_total)}"


def approximate(size: int | None) -> str:
    """Compressed bytes as people read them: ``~297 MB``, ``~2 MB``, ``<1 MB``, ``?``."""
    if size is None:
        return "?"
    megabytes = size / 1_000_000
    if megabytes < 0.5:
        return "<1 MB"
    if megabytes >= 10_000:
        return f"~{megabytes / 1000:,.0f} GB"
    return f"~{megabytes:,.0f} MB"


@dataclass(frozen=True, slots=True)
class FixResult:
    status: Status
    message: str
    ecosystem: str | None = None
    framework: str | None = None
    text: str | None = None  # the new Dockerfile (FIXED only)
    stages: tuple[StagePlan, ...] = ()
    estimate: Estimate | None = None
    notes: tuple[str, ...] = ()  # what the user should confirm (TODOs in the file too)
    missing: tuple[Missing, ...] = ()
