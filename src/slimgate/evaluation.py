"""The engine's front door: image reference + who runs it -> a decision, for every driver.

The webhook, the operator and the CLI all call :class:`Evaluator`, so they can never
disagree. Image metadata comes through the :class:`ImageSource` protocol; the composition
root passes the real registry client, an OCI layout reader, or a fake in unit tests.

fetch (ImageSource) -> analyse (slimgate.analysis) -> decide (slimgate.policy), per
platform; with several platforms the worst decision is reported. An image that cannot be
read gets the policy's ``onRegistryError`` decision and its ``error`` says why; one past
the analysis limits gets the same decision through its ``too-complex`` finding, and that
analysis is memoised like any other.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Analysis
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.limits import Clock
from slimgate.analysis.lineage import Lineage
from slimgate.analysis.memo import AnalysisMemo
from slimgate.errors import InvalidReference, RegistryError
from slimgate.model import DEFAULT_PLATFORM, ImageMetadata, Platform, Subject
from slimgate.policy.decide import decide, decide_unreadable
from slimgate.policy.decision import Decision
from slimgate.policy.model import Policy


class ImageSource(Protocol):
    """Anything that can produce an image's manifest and config for one platform.

    Implementations raise :class:`slimgate.errors.RegistryError` subclasses on failure.
    """

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata: ...


class LineageProvider(Protocol):
    """Known toolchain bases by layer digests, for one platform (resolved lazily)."""

    def lineage_for(self, platform: Platform) -> Lineage: ...


@dataclass(frozen=True, slots=True)
class ImageResult:
    """What the engine says about one image.

    ``platform`` is the platform whose decision is reported (the worst one when several
    were evaluated; ``per_platform`` then holds each of them). ``metadata`` and
    ``analysis`` are None when the image could not be read, and ``error`` says why.
    """

    image: str  # as given in the pod spec / on the command line
    platform: Platform
    decision: Decision
    metadata: ImageMetadata | None
    analysis: Analysis | None
    error: str | None
    per_platform: tuple[ImageResult, ...] = ()

    @property
    def digest(self) -> str | None:
        return self.metadata.digest if self.metadata is not None else None

    @property
    def compressed_size(self) -> int | None:
        return self.metadata.compressed_size if self.metadata is not None else None

    @property
    def notes(self) -> tuple[str, ...]:
        """What reading the image and analysing it noted (each once): facts that change no
        decision, such as a Dockerfile line that would not build."""
        found = self.metadata.notes if self.metadata is not None else ()
        if self.analysis is not None:
            found += self.analysis.notes
        return tuple(dict.fromkeys(found))

    @property
    def unevaluated(self) -> str | None:
        """Why this image was not judged on its merits: unreadable or too complex."""
        if self.error is not None:
            return self.error
        if self.analysis is not None and self.analysis.too_complex is not None:
            return f"too complex to analyse: {self.analysis.too_complex}"
        return None

    @property
    def errors(self) -> tuple[str, ...]:
        """Why any of the evaluated platforms could not be read or analysed."""
        results = self.per_platform or (self,)
        return tuple(r.unevaluated for r in results if r.unevaluated is not None)


def _severity(result: ImageResult) -> tuple[int, int, int]:
    decision = result.decision
    return (decision.verdict.rank, decision.enforced.rank, result.unevaluated is not None)


def worst(results: Sequence[ImageResult]) -> ImageResult:
    """The result to report for the platforms of ``results``: one platform's as it is;
    of several, the worst verdict, then enforced verdict, then an unreadable one (the
    first listed among equals), with ``per_platform`` holding each of them."""
    if len(results) == 1:
        return results[0]
    chosen = max(results, key=_severity)  # max keeps the first of equals
    return replace(chosen, per_platform=tuple(results))


class Evaluator:
    """Fetch, analyse and decide, the same way for every driver.

    The oversize thresholds are the policy's (``policy.thresholds`` replaces
    ``knowledge.thresholds``). ``lineage``, when given, is asked for the known toolchain
    bases of a platform only after an image for that platform has been read.
    ``today`` is the clock exemptions expire by; ``clock``, when given, the one an analysis
    spends its CPU budget by (``time.thread_time`` in the drivers). ``analyses`` is the memo
    of analyses; engines that differ only in their registry credentials share one (an
    analysis depends on the image's digests, not on who fetched it).
    """

    def __init__(
        self,
        source: ImageSource,
        policy: Policy,
        knowledge: Knowledge,
        *,
        today: Callable[[], date],
        lineage: LineageProvider | None = None,
        analyses: AnalysisMemo | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.source = source
        self.policy = policy
        self.knowledge = replace(knowledge, thresholds=policy.thresholds)
        self._today = today
        self._clock = clock
        self._lineage = lineage
        self.analyses = analyses if analyses is not None else AnalysisMemo()

    def with_source(self, source: ImageSource) -> Evaluator:
        """The same engine reading images from ``source`` (the registry client with a pod's
        pull secrets): same policy, knowledge, clock, lineage and memo of analyses."""
        engine = copy.copy(self)
        engine.source = source
        return engine

    def evaluate(
        self,
        image: str,
        subject: Subject,
        platforms: Sequence[Platform] = (DEFAULT_PLATFORM,),
    ) -> ImageResult:
        """Decide about ``image`` run by ``subject``; the worst platform's result wins."""
        if not platforms:
            raise ValueError("evaluate() needs at least one platform")
        return worst([self.evaluate_platform(image, subject, p) for p in platforms])

    def evaluate_platform(self, image: str, subject: Subject, platform: Platform) -> ImageResult:
        """Decide about ``image`` for one platform."""
        try:
            metadata = self.source.fetch(image, platform)
        except (RegistryError, InvalidReference) as exc:
            return self.unreadable(image, subject, str(exc) or type(exc).__name__, platform)
        knowledge = self.knowledge
        if self._lineage is not None:
            knowledge = replace(knowledge, lineage=self._lineage.lineage_for(metadata.platform))
        analysis = self._analysis(metadata, knowledge)
        return self.judge(image, subject, analysis, metadata, platform)

    def _analysis(self, metadata: ImageMetadata, knowledge: Knowledge) -> Analysis:
        """Analyse once per (manifest, config, platform, lineage): the rest is pure."""
        if metadata.digest is None:  # nothing names this content reliably
            return analyse(metadata, knowledge, self._clock)
        key = (metadata.digest, metadata.config_digest, metadata.platform, knowledge.lineage)
        return self.analyses.get_or_compute(key, lambda: analyse(metadata, knowledge, self._clock))

    def judge(
        self,
        image: str,
        subject: Subject,
        analysis: Analysis,
        metadata: ImageMetadata | None = None,
        platform: Platform = DEFAULT_PLATFORM,
    ) -> ImageResult:
        """Decide about an analysis made elsewhere (the Dockerfile lint) under this policy."""
        decision = decide(analysis, subject, image, self.policy, self._today())
        reported = metadata.platform if metadata is not None else platform
        return ImageResult(image, reported, decision, metadata, analysis, None)

    def unreadable(
        self,
        image: str,
        subject: Subject,
        reason: str,
        platform: Platform = DEFAULT_PLATFORM,
    ) -> ImageResult:
        """The ``onRegistryError`` result, also for callers whose deadline expired."""
        decision = decide_unreadable(image, subject, reason, self.policy, self._today())
        return ImageResult(image, platform, decision, None, None, reason)
