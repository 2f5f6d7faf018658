"""Rule ids and defaults the policy relies on."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slimgate.analysis import rules
from slimgate.analysis.findings import Finding, Severity
from slimgate.config import parse_settings


def test_rule_ids_and_defaults_match_the_built_in_policy() -> None:
    """The rule table and defaults/config.yaml name the same rules with the same actions
    (registry-error and too-complex are decided by policy.onRegistryError, not listed under
    rules)."""
    built_in = {rule: str(action) for rule, action in parse_settings(None).policy.rules.items()}
    table = {r: a for r, a in rules.DEFAULT_ACTIONS.items() if r not in rules.UNEVALUATED}
    assert built_in == table
    assert set(rules.RULE_IDS) == set(built_in) | {rules.REGISTRY_ERROR, rules.TOO_COMPLEX}


def test_clear_toolchain_findings_deny_and_borderline_warn() -> None:
    deny = {r for r, action in rules.DEFAULT_ACTIONS.items() if action == "deny"}
    assert deny == {"toolchain-base", "toolchain-installed", "build-in-final-image", "sdk-copied"}
    assert all(rules.RULES_BY_ID[r].severity is Severity.HIGH for r in deny)


def test_finding_message_must_be_one_short_line() -> None:
    with pytest.raises(ValueError, match="one line"):
        Finding(rules.TOOLCHAIN_BASE, Severity.HIGH, "a\nb")


def test_shortened_commands_end_at_a_word_boundary() -> None:
    from slimgate.analysis.messages import shorten

    text = "apt-get install -y --no-install-recommends build-essential libpq-dev"
    short = shorten(text, 40)
    assert short == "apt-get install -y…"
    assert len(short) <= 40
    assert shorten("x" * 50, 10) == "x" * 9 + "…"  # one long word is still cut


@given(
    text=st.text(alphabet="ab- \t\n", max_size=2000),
    limit=st.sampled_from([5, 20, 80, 94]),
)
def test_a_shortened_command_is_its_collapsed_whole_cut_at_the_limit(text: str, limit: int) -> None:
    """shorten() collapses only as much of a long step as it shows; the result is the
    same as collapsing all of it first (long whitespace runs included)."""
    from slimgate.analysis.messages import shorten

    line = re.sub(r"\s+", " ", text).strip()
    short = shorten(text, limit)
    if len(line) <= limit:
        assert short == line
    else:
        assert short.endswith("…")
        assert len(short) <= limit
        assert line.startswith(short[:-1])
        assert short == shorten(line, limit)
