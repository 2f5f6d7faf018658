"""A fake engine for the webhook's unit tests: canned analyses, the real policy decision.

Only the image lookup and analysis are faked; the decision comes from
:func:`slimgate.policy.decide.decide`, so modes, rule actions and ``onRegistryError``
behave as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from slimgate.analysis.findings import Analysis, BaseImage, Finding, Method, Severity
from slimgate.errors import RegistryError
from slimgate.model import DEFAULT_PLATFORM, Platform, Subject
from slimgate.policy.decide import decide, decide_unreadable
from slimgate.policy.decision import Decision, RuleAction
from slimgate.policy.model import Policy

TODAY = date(2026, 11, 27)

GOLANG = BaseImage(
    name="golang",
    ecosystem="go",
    method=Method.ENVIRONMENT,
    evidence="GOLANG_VERSION=1.23.4",
    reference="golang:1.23",
)
TOOLCHAIN = Finding(
    rule="toolchain-base",
    severity=Severity.HIGH,
    message="built on golang: the Go toolchain (~250 MB) ships to production",
    base=GOLANG,
    remediation="build in a golang stage, COPY --from=build the binary into distroless/static",
)
OVERSIZE = Finding(
    rule="oversize-layer", severity=Severity.MEDIUM, message="layer 3 is 310 MB (limit 200 MB)"
)
CLEAN = Analysis(findings=(), base=None, compressed_size=10_000_000)
BLOATED = Analysis(findings=(TOOLCHAIN,), base=GOLANG, compressed_size=300_000_000)
LARGE = Analysis(findings=(OVERSIZE,), base=None, compressed_size=400_000_000)

DEFAULT_RULES = {"toolchain-base": RuleAction.DENY, "oversize-layer": RuleAction.WARN}


@dataclass(frozen=True, slots=True)
class FakeResult:
    image: str
    platform: Platform
    decision: Decision
    analysis: Analysis | None
    error: str | None = None
    per_platform: tuple[FakeResult, ...] = ()


@dataclass
class FakeEngine:
    """Images map to analyses; anything in ``errors`` raises; ``blocked`` images wait."""

    analyses: dict[str, Analysis] = field(default_factory=dict)
    errors: dict[str, RegistryError] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    policy: Policy = field(default_factory=lambda: Policy(rules=DEFAULT_RULES))
    calls: list[tuple[str, Subject]] = field(default_factory=list)
    platforms: list[tuple[Platform, ...]] = field(default_factory=list)  # of each evaluate

    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> FakeResult:
        self.calls.append((image, subject))
        self.platforms.append(tuple(platforms))
        if image in self.blocked:
            self.release.wait(30)
        if image in self.errors:
            return self.unreadable(image, subject, str(self.errors[image]), platforms[0])
        analysis = self.analyses.get(image, CLEAN)
        decision = decide(analysis, subject, image, self.policy, TODAY)
        return FakeResult(image, platforms[0], decision, analysis)

    def unreadable(
        self, image: str, subject: Subject, reason: str, platform: Platform = DEFAULT_PLATFORM
    ) -> FakeResult:
        decision = decide_unreadable(image, subject, reason, self.policy, TODAY)
        return FakeResult(image, platform, decision, None, reason)
