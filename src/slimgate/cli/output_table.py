"""``--output table``: what people read: decision, base, top findings, the fix and its saving.

Sizes are compressed megabytes (10^6 bytes), as registries report them. ``rich`` is
imported only here, only when a table is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from slimgate.evaluation import ImageResult
from slimgate.policy.decision import RuleAction, Verdict

if TYPE_CHECKING:
    from rich.console import Console

TOP_FINDINGS = 5
_STYLE = {Verdict.ALLOW: "bold green", Verdict.WARN: "bold yellow", Verdict.DENY: "bold red"}
_ACTION_STYLE = {RuleAction.DENY: "red", RuleAction.WARN: "yellow", RuleAction.OFF: "dim"}


def megabytes(size: int | None) -> str:
    if size is None:
        return ""
    if 0 < size < 50_000:
        return "<0.1 MB"
    return f"{size / 1_000_000:.1f} MB"


def _headline(result: ImageResult) -> str:
    verdict = result.decision.verdict
    parts = [f"[{_STYLE[verdict]}]{verdict.value.upper()}[/]", f"[bold]{result.image}[/]"]
    parts.append(str(result.platform))
    if result.digest:
        parts.append(f"[dim]{result.digest[:19]}…[/]")
    if result.compressed_size is not None and result.metadata is not None:
        parts.append(f"{megabytes(result.compressed_size)} compressed")
    return "  ".join(parts)


def _context_lines(result: ImageResult) -> list[str]:
    from rich.markup import escape

    lines = []
    decision = result.decision
    if result.error is not None:
        lines.append(f"[red]could not be read:[/] {escape(result.error)}")
    analysis = result.analysis
    if analysis is not None:
        base = analysis.base
        if base is not None:
            lines.append(
                f"base: [bold]{escape(base.name)}[/] ({base.method}: {escape(base.evidence)})"
            )
        else:
            lines.append("base: not recognised")
    if decision.exemption is not None:
        until = decision.exemption.expires
        lines.append(
            f"exempted: {escape(decision.exemption.reason)}"
            + (f" (until {until.isoformat()})" if until else "")
        )
    if decision.verdict is not decision.enforced:
        lines.append(
            f"mode {decision.mode}: would be {decision.enforced.value.upper()} in enforce mode"
        )
    for each in result.per_platform:
        if each is not result and each.platform != result.platform:
            lines.append(
                f"{each.platform}: {each.decision.verdict}"
                + (" (unreadable)" if each.error else "")
            )
    lines.extend(f"note: {escape(note)}" for note in result.notes)
    return lines


def _render_one(result: ImageResult, console: Console) -> None:
    from rich.markup import escape
    from rich.padding import Padding
    from rich.table import Table

    def indented(markup: str) -> None:
        console.print(Padding(markup, (0, 0, 0, 2), expand=False))  # wrapped lines keep the indent

    console.print(_headline(result))
    for line in _context_lines(result):
        indented(line)
    findings = result.decision.findings
    if findings and result.error is None:
        table = Table(box=None, padding=(0, 1), show_edge=False, pad_edge=False)
        table.add_column("action")
        table.add_column("rule")
        table.add_column("layer", justify="right")
        table.add_column("size (compressed)", justify="right")
        table.add_column("finding")
        for decided in findings[:TOP_FINDINGS]:
            finding = decided.finding
            table.add_row(
                f"[{_ACTION_STYLE[decided.action]}]{decided.action}[/]",
                finding.rule,
                "" if finding.layer is None else str(finding.layer),
                megabytes(finding.size),
                escape(finding.message),
            )
        console.print(Padding(table, (0, 0, 0, 2), expand=False))
        if len(findings) > TOP_FINDINGS:
            indented(f"… and {len(findings) - TOP_FINDINGS} more (--output json lists all)")
        seen: set[str] = set()
        for decided in findings:
            finding = decided.finding
            if finding.remediation and finding.remediation not in seen:
                seen.add(finding.remediation)
                saving = (
                    f" — saves ~{megabytes(finding.saving)} compressed" if finding.saving else ""
                )
                indented(f"[bold]fix:[/] {escape(finding.remediation)}{saving}")
    console.print()


def render_table(results: Sequence[ImageResult], stream: TextIO) -> None:
    from rich.console import Console

    console = Console(file=stream, highlight=False, soft_wrap=False)
    for result in results:
        _render_one(result, console)
    counts = {v: sum(r.decision.verdict is v for r in results) for v in Verdict}
    console.print(
        f"{len(results)} image(s): {counts[Verdict.ALLOW]} allowed, {counts[Verdict.WARN]} "
        f"warned, {counts[Verdict.DENY]} denied"
    )
