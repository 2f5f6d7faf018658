"""Evaluator: fetch -> analyse -> decide, per platform, with registry errors and lineage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from slimgate.analysis.knowledge import Knowledge, Thresholds
from slimgate.analysis.limits import Clock
from slimgate.analysis.lineage import KnownBase, Lineage
from slimgate.errors import InvalidReference, NotFound, RegistryError, RegistryUnavailable
from slimgate.evaluation import Evaluator, ImageResult
from slimgate.model import ImageMetadata, Platform, Subject
from slimgate.policy.decision import Exemption, Mode, Verdict
from slimgate.policy.model import Policy
from tests.support import corpus
from tests.support.complex_images import repeated_step_metadata

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
TODAY = date(2026, 3, 1)
GOLANG_APP = corpus.extend(
    corpus.load("golang-1-bookworm"), [("RUN /bin/sh -c go build -o /app .", 5_000_000)]
)
CLEAN = corpus.load("alpine-3.24")


class FakeSource:
    """Images by (reference, platform); an exception stands for a registry failure."""

    def __init__(self, images: dict[tuple[str, Platform], ImageMetadata | RegistryError]) -> None:
        self.images = images
        self.calls: list[tuple[str, Platform]] = []

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        self.calls.append((reference, platform))
        found = self.images.get((reference, platform))
        if found is None:
            raise NotFound(f"{reference}: not found")
        if isinstance(found, RegistryError):
            raise found
        return replace(found, reference=reference, platform=platform)


class RecordingLineage:
    def __init__(self, lineage: Lineage) -> None:
        self.lineage = lineage
        self.asked: list[Platform] = []

    def lineage_for(self, platform: Platform) -> Lineage:
        self.asked.append(platform)
        return self.lineage


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The digests of the images the engine analyses, in order."""
    import slimgate.evaluation as evaluation

    seen: list[str | None] = []
    real = evaluation.analyse

    def counting(image: ImageMetadata, knowledge: Knowledge, clock: Clock | None) -> object:
        seen.append(image.digest)
        return real(image, knowledge, clock)

    monkeypatch.setattr(evaluation, "analyse", counting)
    return seen


def evaluator(source: FakeSource, policy: Policy | None = None, **kwargs: object) -> Evaluator:
    return Evaluator(
        source,
        policy or Policy(),
        Knowledge.default(),
        today=lambda: TODAY,
        **kwargs,  # type: ignore[arg-type]
    )


def test_toolchain_image_is_denied_with_its_evidence() -> None:
    source = FakeSource({("app:1", AMD64): GOLANG_APP})
    result = evaluator(source).evaluate("app:1", Subject(namespace="prod"), [AMD64])
    assert result.decision.verdict is Verdict.DENY
    assert result.error is None
    assert result.metadata is not None
    assert result.analysis is not None
    assert result.digest == result.metadata.digest
    assert result.compressed_size == GOLANG_APP.compressed_size
    assert result.platform == AMD64
    assert "toolchain-base" in [f.finding.rule for f in result.decision.findings]


def test_clean_image_is_allowed() -> None:
    source = FakeSource({("alpine:3", AMD64): CLEAN})
    result = evaluator(source).evaluate("alpine:3", Subject(), [AMD64])
    assert result.decision.verdict is Verdict.ALLOW
    assert result.decision.findings == ()


@pytest.mark.parametrize("on_error", list(Verdict))
def test_unreadable_image_gets_the_on_registry_error_decision(on_error: Verdict) -> None:
    source = FakeSource({("app:1", AMD64): RegistryUnavailable("registry.example: timed out")})
    result = evaluator(source, Policy(on_registry_error=on_error)).evaluate("app:1", Subject())
    assert result.decision.verdict is on_error
    assert result.error == "registry.example: timed out"
    assert result.metadata is None
    assert result.analysis is None
    assert result.digest is None
    assert result.compressed_size is None
    (finding,) = result.decision.findings
    assert finding.finding.rule == "registry-error"
    assert "app:1" in finding.finding.message
    assert "timed out" in finding.finding.message


def test_invalid_reference_is_unreadable_too() -> None:
    class Refusing(FakeSource):
        def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
            raise InvalidReference(f"invalid image reference {reference!r}")

    result = evaluator(Refusing({})).evaluate("Bad:Ref", Subject())
    assert result.error == "invalid image reference 'Bad:Ref'"


def test_worst_platform_wins_and_every_platform_is_kept() -> None:
    source = FakeSource({("app:1", AMD64): CLEAN, ("app:1", ARM64): GOLANG_APP})
    result = evaluator(source).evaluate("app:1", Subject(), [AMD64, ARM64])
    assert result.decision.verdict is Verdict.DENY
    assert result.platform == ARM64
    assert [r.platform for r in result.per_platform] == [AMD64, ARM64]
    assert [r.decision.verdict for r in result.per_platform] == [Verdict.ALLOW, Verdict.DENY]
    assert result.errors == ()


def test_a_platform_that_cannot_be_read_is_reported_in_errors() -> None:
    source = FakeSource({("app:1", AMD64): GOLANG_APP})  # no arm64 image
    result = evaluator(source, Policy(on_registry_error=Verdict.WARN)).evaluate(
        "app:1", Subject(), [AMD64, ARM64]
    )
    assert result.decision.verdict is Verdict.DENY
    assert result.platform == AMD64
    assert result.errors == ("app:1: not found",)


def test_on_equal_verdicts_the_unreadable_platform_is_reported() -> None:
    source = FakeSource({("app:1", AMD64): CLEAN})
    result = evaluator(source, Policy(on_registry_error=Verdict.ALLOW)).evaluate(
        "app:1", Subject(), [AMD64, ARM64]
    )
    assert result.decision.verdict is Verdict.ALLOW
    assert result.platform == ARM64
    assert result.error == "app:1: not found"


def test_policy_thresholds_drive_the_oversize_rules() -> None:
    source = FakeSource({("alpine:3", AMD64): CLEAN})
    tiny = Policy(thresholds=Thresholds(layer_bytes=1000, image_bytes=10**12))
    result = evaluator(source, tiny).evaluate("alpine:3", Subject())
    assert [f.finding.rule for f in result.decision.findings] == ["oversize-layer"]
    assert result.decision.verdict is Verdict.WARN


def test_lineage_is_asked_for_the_fetched_platform_only_after_a_read() -> None:
    base = corpus.load("debian-bookworm-slim")
    app = corpus.extend(base, [("COPY app /app # buildkit", 1000)])
    known = KnownBase(
        name="golang", reference="docker.io/library/golang:1", layers=(base.layers[0].digest,)
    )
    lineage = RecordingLineage(Lineage.of([known]))
    source = FakeSource({("app:1", AMD64): app})
    engine = evaluator(source, lineage=lineage)
    unread = engine.evaluate("missing:1", Subject(), [AMD64])
    assert unread.error is not None
    assert lineage.asked == []
    result = engine.evaluate("app:1", Subject(), [AMD64])
    assert lineage.asked == [AMD64]
    assert result.analysis is not None
    assert result.analysis.base is not None
    assert result.analysis.base.name == "golang"
    assert result.decision.verdict is Verdict.DENY


def test_exemptions_expire_by_the_injected_clock() -> None:
    exemption = Exemption(reason="migrating", images=("app",), expires=date(2026, 3, 1))
    policy = Policy(exemptions=(exemption,))
    source = FakeSource({("app:1", AMD64): GOLANG_APP})
    today = [date(2026, 3, 1)]
    engine = Evaluator(source, policy, Knowledge.default(), today=lambda: today[0])
    assert engine.evaluate("app:1", Subject()).decision.exemption == exemption
    today[0] = date(2026, 3, 2)
    assert engine.evaluate("app:1", Subject()).decision.verdict is Verdict.DENY


def test_unreadable_for_callers_whose_deadline_expired() -> None:
    policy = Policy(on_registry_error=Verdict.DENY, namespace_modes={"legacy": Mode.WARN})
    engine = evaluator(FakeSource({}), policy)
    result = engine.unreadable("app:1", Subject(namespace="legacy"), "deadline", ARM64)
    assert isinstance(result, ImageResult)
    assert result.platform == ARM64
    assert result.error == "deadline"
    assert result.decision.verdict is Verdict.WARN
    assert result.decision.enforced is Verdict.DENY


def test_judge_decides_an_analysis_made_elsewhere() -> None:
    from slimgate.analysis.engine import analyse

    engine = evaluator(FakeSource({}))
    result = engine.judge("Dockerfile", Subject(), analyse(GOLANG_APP, Knowledge.default()))
    assert result.decision.verdict is Verdict.DENY
    assert result.metadata is None
    assert result.error is None


def test_at_least_one_platform() -> None:
    with pytest.raises(ValueError, match="at least one platform"):
        evaluator(FakeSource({})).evaluate("app:1", Subject(), [])


def test_an_image_is_analysed_once_for_every_subject_that_runs_it(
    analysed: list[str | None],
) -> None:
    app = replace(GOLANG_APP, digest="sha256:" + "a" * 64)
    engine = evaluator(FakeSource({("app:1", AMD64): app, ("app:2", AMD64): app}))

    first = engine.evaluate("app:1", Subject(namespace="a"))
    again = engine.evaluate("app:2", Subject(namespace="b", labels={"team": "x"}))

    assert analysed == [app.digest]
    assert first.analysis == again.analysis
    assert first.decision.verdict is Verdict.DENY
    assert again.decision.verdict is Verdict.DENY


def test_an_engine_over_another_source_keeps_policy_clock_lineage_and_analyses(
    analysed: list[str | None],
) -> None:
    """What the drivers build per pull-secret store: only the source differs."""
    app = replace(GOLANG_APP, digest="sha256:" + "b" * 64)
    public = FakeSource({("app:1", AMD64): app})
    private = FakeSource({("private/app:1", AMD64): app})
    lineage = RecordingLineage(Lineage())
    shared = evaluator(public, Policy(mode=Mode.WARN), lineage=lineage)
    other = shared.with_source(private)

    result = other.evaluate("private/app:1", Subject(namespace="a"))
    assert private.calls == [("private/app:1", AMD64)]
    assert public.calls == []
    assert result.decision.verdict is Verdict.WARN  # the shared engine's policy
    assert lineage.asked == [AMD64]
    shared.evaluate("app:1", Subject(namespace="a"))
    assert analysed == [app.digest]  # one analysis for both engines


def test_a_new_lineage_is_a_new_analysis() -> None:
    app = replace(GOLANG_APP, digest="sha256:" + "b" * 64)
    base = KnownBase("golang", "golang:1", tuple(d.digest for d in app.layers[:2]))
    lineage = RecordingLineage(Lineage())
    engine = evaluator(FakeSource({("app", AMD64): app}), lineage=lineage)

    before = engine.evaluate("app", Subject())
    lineage.lineage = Lineage.of([base])
    after = engine.evaluate("app", Subject())

    assert before.analysis is not None
    assert after.analysis is not None
    assert before.analysis.base is None or before.analysis.base.method != "lineage"
    assert after.analysis.base is not None
    assert after.analysis.base.method == "lineage"


def test_a_too_complex_image_is_analysed_once_and_decided_by_on_registry_error(
    analysed: list[str | None],
) -> None:
    hostile = repeated_step_metadata(count=1_001)
    engine = evaluator(
        FakeSource({("gcc:1", AMD64): hostile}), Policy(on_registry_error=Verdict.DENY)
    )
    first = engine.evaluate("gcc:1", Subject(namespace="a"))
    again = engine.evaluate("gcc:1", Subject(namespace="b"))
    assert analysed == [hostile.digest]  # memoised like any other analysis
    assert first.analysis is again.analysis
    assert first.decision.verdict is Verdict.DENY
    assert first.error is None  # it was read; it was not judged on its merits
    assert first.unevaluated == "too complex to analyse: 1,001 history entries (limit 1,000)"
    assert first.errors == (first.unevaluated,)


def test_the_engine_spends_the_cpu_budget_on_its_clock() -> None:
    ticks = iter(range(0, 1_000_000))
    engine = evaluator(FakeSource({("app:1", AMD64): GOLANG_APP}), clock=lambda: float(next(ticks)))
    result = engine.evaluate("app:1", Subject())
    assert result.unevaluated == "too complex to analyse: more than 0.5 s of CPU time"
