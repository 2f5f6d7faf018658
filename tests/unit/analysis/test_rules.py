"""Rule ids and defaults the policy relies on."""

from __future__ import annotations

import pytest

from slimgate.analysis import rules
from slimgate.analysis.findings import Finding, Severity


def test_rule_ids_match_the_policy_keys() -> None:
    assert set(rules.RULE_IDS) == {
        "toolchain-base",
        "full-language-base",
        "jdk-runtime",
        "php-extension-toolchain",
        "toolchain-installed",
        "build-in-final-image",
        "sdk-copied",
        "dev-dependencies",
        "oversize-layer",
        "oversize-image",
        "registry-error",
    }


def test_clear_toolchain_findings_deny_and_borderline_warn() -> None:
    deny = {r for r, action in rules.DEFAULT_ACTIONS.items() if action == "deny"}
    assert deny == {"toolchain-base", "toolchain-installed", "build-in-final-image", "sdk-copied"}
    assert all(rules.RULES_BY_ID[r].severity is Severity.HIGH for r in deny)


def test_finding_message_must_be_one_short_line() -> None:
    with pytest.raises(ValueError, match="one line"):
        Finding(rules.TOOLCHAIN_BASE, Severity.HIGH, "a\nb")
