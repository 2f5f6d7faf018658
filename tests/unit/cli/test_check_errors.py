"""``slimgate check`` reports an unexpected failure as that image's error, not a traceback."""

from __future__ import annotations

from datetime import date

from slimgate.analysis.knowledge import Knowledge
from slimgate.cli.check import evaluate_all
from slimgate.cli.outcome import ERROR, exit_code
from slimgate.evaluation import Evaluator
from slimgate.model import ImageMetadata, Platform, Subject
from slimgate.policy.decision import Verdict
from slimgate.policy.model import Policy
from tests.support import corpus

AMD64 = Platform("linux", "amd64")


class Broken:
    """A source with a bug for one image: it raises something that is not our error."""

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        if reference == "broken:1":
            raise RecursionError("maximum recursion depth exceeded")
        return corpus.load("alpine-3.24")


def test_an_unexpected_failure_is_the_images_error_and_the_others_are_decided() -> None:
    policy = Policy(on_registry_error=Verdict.DENY)
    engine = Evaluator(Broken(), policy, Knowledge.default(), today=lambda: date(2026, 1, 1))
    results = evaluate_all(engine, ["broken:1", "alpine:3", "broken:1"], Subject(), [AMD64])
    broken, clean, again = results
    assert broken.error == "evaluation failed: RecursionError: maximum recursion depth exceeded"
    assert broken.decision.verdict is Verdict.DENY
    assert clean.error is None
    assert again.error == broken.error
    assert exit_code(results) == ERROR
