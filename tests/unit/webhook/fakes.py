"""The webhook's unit tests' engine: the real :class:`Evaluator` over a fake image source.

Only the image lookup and the analysis are faked (canned analyses by image); fetching,
platforms, the memo-free decision through :func:`slimgate.policy.decide.decide`, modes,
rule actions and ``onRegistryError`` run as in production.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import date

from slimgate.analysis.findings import Analysis, BaseImage, Finding, Method, Severity
from slimgate.analysis.knowledge import Knowledge
from slimgate.errors import RegistryError
from slimgate.evaluation import Evaluator, ImageResult
from slimgate.model import DEFAULT_PLATFORM, ImageConfig, ImageMetadata, Platform, Subject
from slimgate.policy.decision import RuleAction
from slimgate.policy.model import Policy
from tests.support.fakes import FakeSource

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


def empty_image(reference: str, platform: Platform) -> ImageMetadata:
    """Every image the engine's source has no error for reads as an empty one."""
    digest = "sha256:" + hashlib.sha256(reference.encode()).hexdigest()
    return ImageMetadata(reference, digest, platform, "", digest, (), ImageConfig())


class FakeEngine(Evaluator):
    """The real engine over :class:`FakeSource`, with canned analyses (``canned``: image ->
    analysis, clean by default); it records each ``evaluate`` call and its platforms."""

    def __init__(
        self,
        *,
        canned: dict[str, Analysis] | None = None,
        errors: dict[str, RegistryError] | None = None,
        blocked: set[str] | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.blocked = set(blocked or ())  # images whose fetch waits for release
        self.release = threading.Event()
        self.fake = FakeSource(gate=self.release, held=self.blocked, otherwise=empty_image)
        self.errors = self.fake.images  # image -> the error its fetch raises
        self.errors.update(errors or {})
        rules = policy or Policy(rules=DEFAULT_RULES)
        super().__init__(self.fake, rules, Knowledge(), today=lambda: TODAY)
        self.canned = dict(canned or {})
        self.calls: list[tuple[str, Subject]] = []
        self.platforms: list[tuple[Platform, ...]] = []  # of each evaluate

    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> ImageResult:
        self.calls.append((image, subject))
        self.platforms.append(tuple(platforms))
        return super().evaluate(image, subject, platforms)

    def _analysis(self, metadata: ImageMetadata, knowledge: Knowledge) -> Analysis:
        return self.canned.get(metadata.reference, CLEAN)
