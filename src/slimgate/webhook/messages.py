"""Decisions rendered for people: warning lines and the denial message.

A warning names the container by its field path in the object as submitted
(``spec.template.spec.containers[0].image: ...``), is at most 120 characters and has no
newline (``kube.responses.warning_line`` enforces it). A denial lists, per denied
container, the image, the base it was built on, the finding and the remediation: enough for
a developer to fix the Dockerfile without opening a dashboard.

Containers past the review's limits (:class:`Excess`) share one decision and one line,
however many there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slimgate.analysis.rules import FIX_HINT, REGISTRY_ERROR, UNEVALUATED
from slimgate.evaluation import ImageResult
from slimgate.kube.workloads import ContainerImage
from slimgate.model import DEFAULT_PLATFORM
from slimgate.policy.decision import DecidedFinding, Mode, RuleAction, Verdict


@dataclass(frozen=True, slots=True)
class Checked:
    """One container and the engine's result for its image."""

    container: ContainerImage
    result: ImageResult

    @property
    def verdict(self) -> Verdict:
        return self.result.decision.verdict


@dataclass(frozen=True, slots=True)
class Excess:
    """The containers of a review past its limits: never looked up, decided together by
    ``onRegistryError`` (``result``), named in one line."""

    count: int  # containers
    where: str  # the pod spec's field path: "spec", "spec.template.spec"
    reason: str  # "the object has more than 1,000 containers"
    result: ImageResult

    @property
    def verdict(self) -> Verdict:
        return self.result.decision.verdict

    @property
    def line(self) -> str:
        noun = "container" if self.count == 1 else "containers"
        return f"{self.where}: {self.count:,} {noun} not checked: {self.reason}"


def _line(checked: Checked, finding: DecidedFinding) -> str:
    path = checked.container.path
    if finding.finding.rule == REGISTRY_ERROR:
        reason = checked.result.error or finding.finding.message
        return f"{path}: {checked.container.image} not checked: {reason}"
    return f"{path}: {finding.finding.message}"


def warnings(checked: Sequence[Checked], excess: Excess | None = None) -> list[str]:
    """Warning lines for every finding that did not deny its container.

    A container allowed outright (no findings, an exemption, ``audit`` mode) adds nothing,
    except that an image that could not be read or was too complex to analyse is always
    named (``onRegistryError: allow`` still says so), and so are the containers past the
    review's limits (first, so that the cap on warnings never hides them).
    """
    lines: list[str] = []
    if excess is not None:
        decision = excess.result.decision
        shown = decision.mode is not Mode.AUDIT and decision.exemption is None
        if shown and excess.verdict is not Verdict.DENY:  # a denial says it itself
            lines.append(excess.line)
    for item in checked:
        decision = item.result.decision
        if decision.mode is Mode.AUDIT or decision.exemption is not None:
            continue
        for finding in decision.findings:
            if item.verdict is Verdict.DENY and finding.action is RuleAction.DENY:
                continue  # part of the denial message
            if item.verdict is Verdict.ALLOW and finding.finding.rule not in UNEVALUATED:
                continue
            lines.append(_line(item, finding))
    return lines


def denial(checked: Sequence[Checked], excess: Excess | None = None) -> str:
    """The ``status.message`` of a denial: one paragraph per denied container, and one for
    the containers past the review's limits when their decision denies."""
    denied = [item for item in checked if item.verdict is Verdict.DENY]
    rest = excess if excess is not None and excess.verdict is Verdict.DENY else None
    count = len(denied) + (rest.count if rest is not None else 0)
    noun = "container" if count == 1 else "containers"
    parts = [f"slimgate: {count:,} {noun} denied by the image hygiene policy"]
    if rest is not None:
        parts.append(f"{rest.line}:")
        parts.append(f"  - [{REGISTRY_ERROR}] could not be checked: {rest.reason}")
    fixable = any(item.result.decision.multi_stage_fixes for item in denied)
    for item in denied:
        c = item.container
        head = f'{c.container_path} ("{c.name}") image {c.image}'
        result = item.result
        if len(result.per_platform) > 1 or result.platform != DEFAULT_PLATFORM:
            head += f" for {result.platform}"  # the variant that was judged
        analysis = item.result.analysis
        if analysis is not None and analysis.base is not None:
            head += f", built on {analysis.base.name}"
        parts.append(head + ":")
        stated: set[str] = set()  # each fix once per container, not once per finding
        for decided in item.result.decision.findings:
            if decided.action is not RuleAction.DENY:
                continue
            finding = decided.finding
            if finding.rule == REGISTRY_ERROR:
                reason = item.result.error or finding.message
                parts.append(f"  - [{REGISTRY_ERROR}] could not be checked: {reason}")
                continue
            text = f"  - [{finding.rule}] {finding.message}"
            if finding.remediation and finding.remediation not in stated:
                stated.add(finding.remediation)
                text += f" Fix: {finding.remediation}"
            parts.append(text)
    if fixable:  # second, so that cutting a long message at MAX_MESSAGE keeps it
        parts.insert(1, f"Hint: {FIX_HINT}.")
    return "\n".join(parts)
