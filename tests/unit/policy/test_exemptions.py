"""Exemptions: each kind, expiry against an injected date, and most-specific-wins."""

from __future__ import annotations

from datetime import date

import pytest

from slimgate.analysis.findings import Analysis, Finding, Severity
from slimgate.model import Subject
from slimgate.policy.decide import decide, decide_unreadable
from slimgate.policy.decision import Exemption, RuleAction, Verdict
from slimgate.policy.exemptions import find_exemption, normalise_pattern, pattern_specificity
from slimgate.policy.model import Policy

TODAY = date(2026, 3, 1)
TOOLCHAIN = Analysis(
    findings=(Finding(rule="toolchain-base", severity=Severity.HIGH, message="golang base"),),
    base=None,
    compressed_size=1,
)


def policy(*exemptions: Exemption, on_error: Verdict = Verdict.WARN) -> Policy:
    return Policy(
        rules={"toolchain-base": RuleAction.DENY},
        exemptions=exemptions,
        on_registry_error=on_error,
    )


def test_namespace_exemption_allows_and_is_recorded() -> None:
    exemption = Exemption(reason="legacy team migrating", namespaces=("legacy",))
    p = policy(exemption)
    decision = decide(TOOLCHAIN, Subject(namespace="legacy"), "golang:1.23", p, TODAY)
    assert decision.verdict is Verdict.ALLOW
    assert decision.enforced is Verdict.DENY
    assert decision.exemption == exemption
    assert [f.finding.rule for f in decision.findings] == ["toolchain-base"]
    other = decide(TOOLCHAIN, Subject(namespace="prod"), "golang:1.23", p, TODAY)
    assert other.verdict is Verdict.DENY
    assert other.exemption is None


def test_namespace_globs() -> None:
    exemption = Exemption(reason="sandboxes", namespaces=("sandbox-*",))
    assert find_exemption([exemption], "x", Subject(namespace="sandbox-ann"), TODAY) == exemption
    assert find_exemption([exemption], "x", Subject(namespace="prod"), TODAY) is None
    assert find_exemption([exemption], "x", Subject(), TODAY) is None


def test_image_pattern_exemption() -> None:
    exemption = Exemption(reason="ci runners", images=("registry.example/ci/*",))
    p = policy(exemption)
    hit = decide(TOOLCHAIN, Subject(), "registry.example/ci/runner:3", p, TODAY)
    assert hit.verdict is Verdict.ALLOW
    assert hit.exemption == exemption
    miss = decide(TOOLCHAIN, Subject(), "registry.example/web/app:3", p, TODAY)
    assert miss.verdict is Verdict.DENY


@pytest.mark.parametrize(
    ("pattern", "image"),
    [
        ("golang", "golang:1.23"),  # repository without tag covers every tag
        ("golang:1.23", "docker.io/library/golang:1.23"),
        ("docker.io/library/golang:*", "golang:1.22-bookworm"),
        ("library/golang", "index.docker.io/library/golang:1"),
        ("bitnami/*", "bitnami/redis:7"),
        ("golang:1.23", "golang:1.23@sha256:" + "a" * 64),
        ("*/golang@sha256:*", "golang@sha256:" + "b" * 64),
        ("oci:./build/*", "oci:./build/layout:latest"),
    ],
)
def test_patterns_match_the_normalised_reference(pattern: str, image: str) -> None:
    exemption = Exemption(reason="r", images=(pattern,))
    assert find_exemption([exemption], image, Subject(), TODAY) == exemption


@pytest.mark.parametrize(
    ("pattern", "image"),
    [
        ("golang:1.23", "golang:1.22"),
        ("golang", "gcr.io/library/golang:1"),
        ("team/app", "team/app-two:1"),
    ],
)
def test_patterns_that_do_not_match(pattern: str, image: str) -> None:
    exemption = Exemption(reason="r", images=(pattern,))
    assert find_exemption([exemption], image, Subject(), TODAY) is None


def test_normalise_pattern() -> None:
    assert normalise_pattern("golang:*") == "docker.io/library/golang:*"
    assert normalise_pattern("team/*") == "docker.io/team/*"
    assert normalise_pattern("index.docker.io/x/y") == "docker.io/x/y"
    assert normalise_pattern("localhost/app") == "localhost/app"
    assert normalise_pattern("*/app") == "*/app"
    assert normalise_pattern("registry.example:5000/a/*") == "registry.example:5000/a/*"


def test_label_exemption_needs_every_label() -> None:
    exemption = Exemption(reason="batch jobs", labels=(("tier", "batch"), ("team", "data")))
    both = Subject(labels={"tier": "batch", "team": "data", "app": "x"})
    one = Subject(labels={"tier": "batch"})
    assert find_exemption([exemption], "golang:1", both, TODAY) == exemption
    assert find_exemption([exemption], "golang:1", one, TODAY) is None
    assert decide(TOOLCHAIN, both, "golang:1", policy(exemption), TODAY).verdict is Verdict.ALLOW


def test_every_kind_named_must_match() -> None:
    exemption = Exemption(reason="r", namespaces=("legacy",), images=("golang*",))
    assert find_exemption([exemption], "golang:1", Subject(namespace="legacy"), TODAY)
    assert find_exemption([exemption], "golang:1", Subject(namespace="prod"), TODAY) is None
    assert find_exemption([exemption], "rust:1", Subject(namespace="legacy"), TODAY) is None


def test_exemption_that_selects_nothing_never_applies() -> None:
    assert find_exemption([Exemption(reason="r")], "golang:1", Subject(), TODAY) is None


def test_expired_exemption_no_longer_applies() -> None:
    exemption = Exemption(reason="until migration", images=("golang",), expires=date(2026, 2, 28))
    p = policy(exemption)
    assert decide(TOOLCHAIN, Subject(), "golang:1", p, date(2026, 2, 28)).verdict is Verdict.ALLOW
    after = decide(TOOLCHAIN, Subject(), "golang:1", p, date(2026, 3, 1))
    assert after.verdict is Verdict.DENY
    assert after.exemption is None


def test_most_specific_pattern_wins() -> None:
    broad = Exemption(reason="whole registry", images=("registry.example/*",))
    team = Exemption(reason="team", images=("registry.example/team/*",))
    exact = Exemption(reason="this app", images=("registry.example/team/app",))
    image = "registry.example/team/app:2"
    for order in ([broad, team, exact], [exact, team, broad], [team, exact, broad]):
        assert find_exemption(order, image, Subject(), TODAY) == exact
    assert find_exemption([broad, team], image, Subject(), TODAY) == team
    assert find_exemption([broad, team], "registry.example/other:1", Subject(), TODAY) == broad


def test_fewer_wildcards_win_when_prefixes_tie() -> None:
    two = Exemption(reason="two", images=("registry.example/*/app:*",))
    one = Exemption(reason="one", images=("registry.example/*/app:1",))
    assert find_exemption([two, one], "registry.example/team/app:1", Subject(), TODAY) == one


def test_specificity_ordering() -> None:
    assert pattern_specificity("a/b/c") > pattern_specificity("a/b/*")
    assert pattern_specificity("a/b/*") > pattern_specificity("a/*")
    assert pattern_specificity("a/*/c") > pattern_specificity("a/*/*")
    assert pattern_specificity("a/*") > pattern_specificity("*")


def test_image_pattern_beats_namespace_and_labels() -> None:
    by_namespace = Exemption(reason="ns", namespaces=("legacy",))
    by_labels = Exemption(reason="labels", labels=(("a", "b"),))
    by_image = Exemption(reason="image", images=("*",))
    subject = Subject(namespace="legacy", labels={"a": "b"})
    found = find_exemption([by_namespace, by_labels, by_image], "golang:1", subject, TODAY)
    assert found == by_image
    assert find_exemption([by_namespace, by_labels], "golang:1", subject, TODAY) == by_labels


def test_first_in_file_wins_a_tie() -> None:
    first = Exemption(reason="first", namespaces=("legacy",))
    second = Exemption(reason="second", namespaces=("legacy",))
    subject = Subject(namespace="legacy")
    assert find_exemption([first, second], "golang:1", subject, TODAY) == first


def test_expired_specific_exemption_falls_back_to_a_broader_active_one() -> None:
    broad = Exemption(reason="team", images=("registry.example/team/*",))
    ended = Exemption(
        reason="app", images=("registry.example/team/app",), expires=date(2025, 12, 31)
    )
    found = find_exemption([broad, ended], "registry.example/team/app:1", Subject(), TODAY)
    assert found == broad


def test_exemption_also_covers_unreadable_images() -> None:
    exemption = Exemption(reason="air-gapped mirror", images=("mirror.internal/*",))
    p = policy(exemption, on_error=Verdict.DENY)
    decision = decide_unreadable("mirror.internal/app:1", Subject(), "timeout", p, TODAY)
    assert decision.verdict is Verdict.ALLOW
    assert decision.exemption == exemption
