"""The audit as one self-contained HTML page: inline CSS, an inline SVG chart, no scripts.

Made to be mailed or attached to a ticket and opened anywhere: nothing is fetched, every
value is escaped. It leads with the bloat cost per namespace (the chart), then the
offenders with their remediations and what each saves, then every namespace's table.
"""

from __future__ import annotations

from datetime import UTC
from html import escape

from slimgate.analysis.rules import FIX_HINT
from slimgate.audit.bloat import megabytes
from slimgate.audit.bloat import megabytes_text as _mb
from slimgate.audit.outcomes import Outcome
from slimgate.audit.summary import AuditSummary, NamespaceSummary
from slimgate.reports.svg import bar_chart

CSS = """
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--accent:#d9480f}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header{background:#102a43;color:#fff;padding:28px 40px}
header h1{margin:0 0 4px;font-size:26px;font-weight:650}
header p{margin:0;color:#bcccdc}
main{max-width:1100px;margin:0 auto;padding:24px 40px 60px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;
padding:20px 24px;margin:0 0 22px}
h2{font-size:18px;margin:0 0 14px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:14px;
margin:0 0 22px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .value{font-size:26px;font-weight:700}
.card .label{color:var(--muted);font-size:13px}
.card.cost .value{color:var(--accent)}
.chart .bar-label{font-size:13px;fill:var(--ink)}
.chart .bar-value{font-size:13px;fill:var(--muted)}
.chart .bar-track{fill:#f0f4f8}
table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;
letter-spacing:.03em}
td.num,th.num{text-align:right;white-space:nowrap}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.pass{background:#e3f9e5;color:#207227}.warn{background:#fff3c4;color:#8d6708}
.fail{background:#ffe3e3;color:#a61b1b}.error{background:#f3e5ff;color:#6b21a8}
.skip{background:#eef2f6;color:#616e7c}
ol.offenders{margin:0;padding-left:22px}
ol.offenders li{margin:0 0 14px}
.offender-head{display:flex;justify-content:space-between;gap:12px;flex-wrap:wrap}
.offender-cost{color:var(--accent);font-weight:700;white-space:nowrap}
.meta{color:var(--muted);font-size:13px}
ul.remedies{margin:4px 0 0;padding-left:18px}
.saving{font-weight:600;white-space:nowrap}
.empty{color:var(--muted)}
"""


def _pill(outcome: Outcome) -> str:
    return f'<span class="pill {outcome.value}">{outcome.value}</span>'


def _cards(summary: AuditSummary) -> str:
    counts = summary.counts
    cards = [
        ("cost", _mb(summary.cost), "bloat cost (bloat × replicas)"),
        ("", str(summary.workloads), "workloads"),
        ("", str(summary.replicas), "running replicas"),
        ("", str(summary.images), "distinct images"),
        ("", str(counts.get("fail", 0)), "fail results"),
        ("", str(counts.get("warn", 0)), "warn results"),
        ("", str(counts.get("error", 0)), "error results"),
    ]
    items = "".join(
        f'<div class="card {cls}"><div class="value">{escape(value)}</div>'
        f'<div class="label">{escape(label)}</div></div>'
        for cls, value, label in cards
    )
    return f'<div class="cards" id="totals">{items}</div>'


def _chart(summary: AuditSummary) -> str:
    bars = sorted(
        ((ns.namespace, megabytes(ns.cost)) for ns in summary.namespaces),
        key=lambda bar: (-bar[1], bar[0]),
    )
    chart = bar_chart(bars, title="bloat cost by namespace (MB)")
    if not any(value for _, value in bars):
        chart = '<p class="empty">No bloat found: nothing to chart.</p>'
    return f'<section id="chart"><h2>Bloat cost by namespace</h2>{chart}</section>'


def _offenders(summary: AuditSummary) -> str:
    if not summary.offenders:
        return (
            '<section id="offenders"><h2>Top offenders</h2>'
            '<p class="empty">No image carries toolchain or oversize layers.</p></section>'
        )
    items = []
    for offender in summary.offenders:
        workloads = ", ".join(f"{w.namespace}/{w.kind}/{w.name}" for w in offender.workloads)
        remedies = "".join(
            f"<li>{escape(r.text)} <span class='saving'>saves {_mb(r.saving)} per image, "
            f"{_mb(r.saving * offender.replicas)} in all</span></li>"
            for r in offender.remedies
        )
        exempt = ' <span class="pill skip">exempt</span>' if offender.exempt else ""
        items.append(
            '<li class="offender"><div class="offender-head">'
            f"<code>{escape(offender.image)}</code>{exempt}"
            f'<span class="offender-cost">{_mb(offender.cost)}</span></div>'
            f'<div class="meta">{_mb(offender.bloat)} of {_mb(offender.compressed_size)} is '
            f"bloat × {offender.replicas} replicas — {escape(workloads)}</div>"
            f'<ul class="remedies">{remedies}</ul></li>'
        )
    hint = ""
    if any(offender.multi_stage_fix for offender in summary.offenders):
        hint = f'<p class="hint">Multi-stage builds: {escape(FIX_HINT)}.</p>'
    return (
        '<section id="offenders"><h2>Top offenders</h2>'
        f'<ol class="offenders">{"".join(items)}</ol>{hint}</section>'
    )


def _namespace(item: NamespaceSummary) -> str:
    rows = []
    for row in item.rows:
        for line in row.containers:
            container, bloat = line.audit, line.bloat
            messages = "<br>".join(escape(r.message) for r in line.flagged)
            rows.append(
                f"<tr><td>{escape(str(row.audit.workload.ref))}</td>"
                f'<td class="num">{container.replicas}</td>'
                f"<td>{escape(container.container.container)}</td>"
                f"<td><code>{escape(container.result.image)}</code></td>"
                f"<td>{_pill(line.outcome)}</td><td>{messages or '-'}</td>"
                f'<td class="num">{_mb(bloat * container.replicas) if bloat else "-"}</td></tr>'
            )
    counts = " ".join(_pill(Outcome(k)) + f" {v}" for k, v in item.counts.items() if v)
    return (
        f'<section class="namespace" id="ns-{escape(item.namespace)}">'
        f"<h2>Namespace {escape(item.namespace)} "
        f'<span class="meta">— cost {_mb(item.cost)}, {item.replicas} replicas</span></h2>'
        f'<p class="meta">{counts}</p>'
        "<table><thead><tr><th>Workload</th><th class='num'>Replicas</th><th>Container</th>"
        "<th>Image</th><th>Result</th><th>Findings</th><th class='num'>Cost</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render_html(summary: AuditSummary) -> str:
    cluster = summary.cluster or "cluster"
    generated = summary.generated.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(
        [
            _cards(summary),
            _chart(summary),
            _offenders(summary),
            *(_namespace(item) for item in summary.namespaces),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>slimgate audit — {escape(cluster)}</title><style>{CSS}</style></head>"
        f"<body><header><h1>slimgate audit — {escape(cluster)}</h1>"
        f"<p>Generated {escape(generated)} · {summary.workloads} workloads in "
        f"{len(summary.namespaces)} namespaces · total bloat cost "
        f'<strong id="total-cost">{_mb(summary.cost)}</strong></p></header>'
        f"<main>{body}</main></body></html>\n"
    )
