"""The shape of a policy decision, shared by every driver.

``verdict`` is what the driver acts on (after the mode is applied); ``enforced`` is what
the verdict would be in ``enforce`` mode, so ``warn`` and ``audit`` modes can still record
what they let through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from slimgate.analysis.findings import Finding
from slimgate.analysis.rules import MULTI_STAGE_FIXES


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def worst(cls, verdicts: list[Verdict]) -> Verdict:
        return max(verdicts, key=lambda v: v.rank, default=cls.ALLOW)


_RANK = {Verdict.ALLOW: 0, Verdict.WARN: 1, Verdict.DENY: 2}


class RuleAction(StrEnum):
    DENY = "deny"
    WARN = "warn"
    OFF = "off"


class Mode(StrEnum):
    ENFORCE = "enforce"  # deny findings deny
    WARN = "warn"  # every deny becomes a warning
    AUDIT = "audit"  # record only: allowed, no warnings


@dataclass(frozen=True, slots=True)
class Exemption:
    reason: str
    namespaces: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    expires: date | None = None


@dataclass(frozen=True, slots=True)
class DecidedFinding:
    finding: Finding
    # The rule's configured action. Findings of rules that are OFF are dropped; the
    # exception is the registry-error or too-complex finding under ``onRegistryError:
    # allow``, recorded with OFF (seen, not acted on).
    action: RuleAction


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    enforced: Verdict
    mode: Mode
    findings: tuple[DecidedFinding, ...]
    exemption: Exemption | None = None

    @property
    def multi_stage_fixes(self) -> bool:
        """Whether a finding acted on is one a multi-stage build removes (``slimgate fix``)."""
        return any(
            d.action is not RuleAction.OFF and d.finding.rule in MULTI_STAGE_FIXES
            for d in self.findings
        )
