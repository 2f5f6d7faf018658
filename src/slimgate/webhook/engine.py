"""What the webhook needs from the engine, stated as protocols.

The engine is :class:`slimgate.evaluation.Evaluator`; the webhook depends only on the two
calls below (the contract in ``slimgate.evaluation``), so tests can hand in a small fake and
the composition root the real thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from slimgate.analysis.findings import Analysis
from slimgate.model import Platform, Subject
from slimgate.policy.decision import Decision


class Result(Protocol):
    """The parts of ``slimgate.evaluation.ImageResult`` the webhook reads."""

    @property
    def image(self) -> str: ...
    @property
    def decision(self) -> Decision: ...
    @property
    def analysis(self) -> Analysis | None: ...
    @property
    def error(self) -> str | None: ...


class Engine(Protocol):
    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = ...
    ) -> Result: ...

    def unreadable(
        self, image: str, subject: Subject, reason: str, platform: Platform = ...
    ) -> Result: ...
