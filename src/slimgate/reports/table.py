"""The audit as terminal tables (rich): one per namespace, the offenders, the bloat cost."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from slimgate.analysis.rules import FIX_HINT
from slimgate.audit.bloat import megabytes_text as _mb
from slimgate.audit.outcomes import Outcome
from slimgate.audit.summary import AuditSummary, NamespaceSummary

STYLES = {
    Outcome.PASS: "green",
    Outcome.SKIP: "dim",
    Outcome.WARN: "yellow",
    Outcome.FAIL: "bold red",
    Outcome.ERROR: "magenta",
}


def _short(image: str, width: int = 60) -> str:
    return image if len(image) <= width else "…" + image[-(width - 1) :]


def namespace_table(item: NamespaceSummary) -> Table:
    counts = ", ".join(f"{k} {v}" for k, v in item.counts.items() if v)
    table = Table(
        title=f"namespace {item.namespace}  ({counts or 'no results'}; cost {_mb(item.cost)})",
        title_justify="left",
        expand=False,
    )
    for column, justify in (
        ("Workload", "left"),
        ("Replicas", "right"),
        ("Container", "left"),
        ("Image", "left"),
        ("Result", "left"),
        ("Rules", "left"),
        ("Bloat", "right"),
        ("Cost", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in item.rows:
        for line in row.containers:
            container, bloat, outcome = line.audit, line.bloat, line.outcome
            rules = sorted({r.rule for r in line.flagged})
            table.add_row(
                str(row.audit.workload.ref),
                str(container.replicas),
                container.container.container,
                _short(container.result.image),
                Text(outcome.value, style=STYLES[outcome]),
                ", ".join(rules) or "-",
                _mb(bloat) if bloat else "-",
                _mb(bloat * container.replicas) if bloat else "-",
            )
    return table


def offenders_table(summary: AuditSummary) -> Table:
    caption = None
    if any(offender.multi_stage_fix for offender in summary.offenders):
        caption = f"multi-stage builds: {FIX_HINT}"
    table = Table(
        title="top offenders", title_justify="left", caption=caption, caption_justify="left"
    )
    table.add_column("Image")
    table.add_column("Bloat", justify="right")
    table.add_column("Replicas", justify="right")
    table.add_column("Cost", justify="right")
    table.add_column("Remediation (saves per image)")
    for offender in summary.offenders:
        remedies = "\n".join(f"{r.text} (-{_mb(r.saving)})" for r in offender.remedies) or "-"
        table.add_row(
            _short(offender.image) + (" [exempt]" if offender.exempt else ""),
            _mb(offender.bloat),
            str(offender.replicas),
            _mb(offender.cost),
            remedies,
        )
    return table


def print_tables(summary: AuditSummary, console: Console) -> None:
    if not summary.namespaces:
        console.print("no workloads found")
        return
    for item in summary.namespaces:
        console.print(namespace_table(item))
        console.print()
    if summary.offenders:
        console.print(offenders_table(summary))
        console.print()
    cost = Table(
        title="bloat cost (toolchain and oversize layers × replicas)", title_justify="left"
    )
    cost.add_column("Namespace")
    cost.add_column("Replicas", justify="right")
    cost.add_column("Cost", justify="right")
    for item in summary.namespaces:
        cost.add_row(item.namespace, str(item.replicas), _mb(item.cost))
    cost.add_row(
        Text("total", style="bold"), str(summary.replicas), Text(_mb(summary.cost), style="bold")
    )
    console.print(cost)
    counts = ", ".join(f"{k} {v}" for k, v in summary.counts.items())
    console.print(
        f"{summary.workloads} workloads, {summary.images} images, "
        f"{summary.errors} unreadable; results: {counts}"
    )
