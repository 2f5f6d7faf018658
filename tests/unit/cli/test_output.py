"""Renderers and exit codes, on results built by the real Evaluator over a fake source."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

from slimgate.analysis.knowledge import Knowledge
from slimgate.cli.outcome import exit_code, report_errors
from slimgate.cli.output_json import render_json
from slimgate.cli.output_table import render_table
from slimgate.errors import RegistryUnavailable
from slimgate.evaluation import Evaluator, ImageResult
from slimgate.model import ImageMetadata, Platform, Subject
from slimgate.policy.decision import Exemption, Verdict
from slimgate.policy.model import Policy
from tests.support import corpus

AMD64, ARM64 = Platform("linux", "amd64"), Platform("linux", "arm64")
GOLANG_APP = corpus.extend(
    corpus.load("golang-1-bookworm"), [("RUN /bin/sh -c go build -o /app .", 5_000_000)]
)
CLEAN = corpus.load("alpine-3.24")


class Source:
    def __init__(self, images: dict[tuple[str, Platform], ImageMetadata]) -> None:
        self.images = images

    def fetch(self, reference: str, platform: Platform) -> ImageMetadata:
        if (reference, platform) not in self.images:
            raise RegistryUnavailable(f"{reference}: connection refused")
        return replace(self.images[reference, platform], reference=reference)


def evaluate(image: str, platforms: list[Platform], policy: Policy | None = None) -> ImageResult:
    source = Source(
        {
            ("golang-app:1", AMD64): GOLANG_APP,
            ("alpine:3", AMD64): CLEAN,
            ("multi:1", AMD64): CLEAN,
            ("multi:1", ARM64): replace(GOLANG_APP, platform=ARM64),
        }
    )
    engine = Evaluator(
        source, policy or Policy(), Knowledge.default(), today=lambda: date(2026, 3, 1)
    )
    return engine.evaluate(image, Subject(), platforms)


def test_json_of_a_denied_image() -> None:
    (entry,) = json.loads(render_json([evaluate("golang-app:1", [AMD64])]))["results"]
    assert entry["image"] == "golang-app:1"
    assert entry["decision"] == "deny"
    assert entry["platform"] == "linux/amd64"
    assert entry["compressed_size"] == GOLANG_APP.compressed_size
    assert entry["base"]["name"] == "golang"
    top = entry["findings"][0]
    assert top["rule"] == "toolchain-base"
    assert top["action"] == "deny"
    assert top["severity"] == "high"
    assert top["saving"] > 0
    assert "platforms" not in entry


def test_json_lists_every_platform_when_several() -> None:
    (entry,) = json.loads(render_json([evaluate("multi:1", [AMD64, ARM64])]))["results"]
    assert entry["platform"] == "linux/arm64"
    assert entry["decision"] == "deny"
    assert [p["decision"] for p in entry["platforms"]] == ["allow", "deny"]


def test_json_records_the_exemption() -> None:
    exemption = Exemption(reason="ticket 42", images=("golang-app",), expires=date(2026, 6, 30))
    result = evaluate("golang-app:1", [AMD64], Policy(exemptions=(exemption,)))
    (entry,) = json.loads(render_json([result]))["results"]
    assert entry["decision"] == "allow"
    assert entry["enforced"] == "deny"
    assert entry["exemption"] == {"reason": "ticket 42", "expires": "2026-06-30"}


def test_exit_codes() -> None:
    allowed = evaluate("alpine:3", [AMD64])
    denied = evaluate("golang-app:1", [AMD64])
    unreadable = evaluate("gone:1", [AMD64], Policy(on_registry_error=Verdict.ALLOW))
    partly = evaluate("alpine:3", [AMD64, ARM64])  # no arm64 image: unreadable platform
    assert exit_code([allowed]) == 0
    assert exit_code([allowed, denied]) == 1
    assert exit_code([denied, unreadable]) == 2
    assert exit_code([partly]) == 2


def test_errors_are_reported_per_platform() -> None:
    stream = io.StringIO()
    report_errors([evaluate("alpine:3", [AMD64, ARM64])], "slimgate check", stream)
    assert stream.getvalue() == (
        "slimgate check: alpine:3 (linux/arm64): alpine:3: connection refused\n"
    )


def test_table_shows_decision_base_findings_and_fix() -> None:
    stream = io.StringIO()
    render_table([evaluate("golang-app:1", [AMD64]), evaluate("gone:1", [AMD64])], stream)
    text = stream.getvalue()
    assert "DENY  golang-app:1  linux/amd64" in text
    assert "base: golang" in text
    assert "toolchain-base" in text
    assert "MB compressed" in text
    assert "fix: multi-stage" in text
    assert "saves ~" in text
    assert "WARN  gone:1" in text
    assert "could not be read: gone:1: connection refused" in text
    assert "2 image(s): 0 allowed, 1 warned, 1 denied" in text
