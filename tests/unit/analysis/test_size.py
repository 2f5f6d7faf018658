"""oversize-layer and oversize-image use compressed manifest sizes and thresholds."""

from __future__ import annotations

from dataclasses import replace

from slimgate.analysis import rules
from slimgate.analysis.engine import analyse
from slimgate.analysis.knowledge import Knowledge, Thresholds
from tests.support import corpus

MB = 1_000_000


def test_layer_over_threshold_is_tied_to_its_history_entry() -> None:
    image = corpus.extend(
        corpus.load("debian-bookworm-slim"),
        [
            ("ENV A=1", None),
            ("COPY model.bin /models/ # buildkit", 450 * MB),
            ('CMD ["serve"]', None),
        ],
    )
    findings = [
        f for f in analyse(image, Knowledge.default()).findings if f.rule == rules.OVERSIZE_LAYER
    ]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.layer == 1
    assert finding.size == 450 * MB
    assert finding.created_by == "COPY model.bin /models/ # buildkit"
    assert "450 MB compressed" in finding.message
    assert rules.DEFAULT_ACTIONS[finding.rule] == "warn"


def test_threshold_is_strictly_above() -> None:
    image = corpus.extend(corpus.load("alpine-3.24"), [("COPY a /a # buildkit", 10 * MB)])
    at = Knowledge(thresholds=Thresholds(layer_bytes=10 * MB, image_bytes=10**12))
    below = Knowledge(thresholds=Thresholds(layer_bytes=10 * MB - 1, image_bytes=10**12))
    assert not [f for f in analyse(image, at).findings if f.rule == rules.OVERSIZE_LAYER]
    assert [f.layer for f in analyse(image, below).findings if f.rule == rules.OVERSIZE_LAYER] == [
        1
    ]


def test_image_total_over_threshold() -> None:
    image = corpus.load("python-3.12-bookworm")
    knowledge = Knowledge(thresholds=Thresholds.from_megabytes(layer=1000, image=300))
    findings = [f for f in analyse(image, knowledge).findings if f.rule == rules.OVERSIZE_IMAGE]
    assert len(findings) == 1
    assert findings[0].size == image.compressed_size
    assert "compressed" in findings[0].message


def test_misaligned_history_still_reports_the_layer_without_a_command() -> None:
    image = corpus.extend(corpus.load("alpine-3.24"), [("COPY big /big # buildkit", 300 * MB)])
    squashed = replace(image, config=replace(image.config, history=image.config.history[:1]))
    finding = next(
        f for f in analyse(squashed, Knowledge.default()).findings if f.rule == rules.OVERSIZE_LAYER
    )
    assert finding.layer == 1
    assert finding.created_by is None


def test_default_thresholds_pass_slim_and_server_images() -> None:
    for name in (
        "debian-bookworm-slim",
        "node-22-bookworm-slim",
        "redis-7",
        "postgres-17",
        "nginx-stable",
    ):
        assert analyse(corpus.load(name), Knowledge.default()).findings == (), name
