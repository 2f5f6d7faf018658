"""The table, JSON and HTML renderings of one audit summary."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

from rich.console import Console

from slimgate.audit.summary import AuditSummary, summarize
from slimgate.reports.html import render_html
from slimgate.reports.jsonreport import audit_document
from slimgate.reports.svg import bar_chart
from slimgate.reports.table import print_tables
from tests.support.audits import MB, oversize_layer, result, toolchain, unreadable, workload


def _summary() -> AuditSummary:
    audits = [
        workload("shop", "Deployment", "web")
        .run("app", result("reg/web:1", toolchain(300 * MB)), 3)
        .build(),
        workload("shop", "Deployment", "api").run("app", result("reg/api:1"), 2).build(),
        workload("batch", "CronJob", "nightly")
        .run("job", result("reg/<script>:1", oversize_layer(1, 250 * MB)), 1)
        .build(),
        workload("batch", "Pod", "debug")
        .run("sh", unreadable("reg/gone:1", "404 not found"))
        .build(),
    ]
    return summarize(audits, generated=datetime(2025, 3, 1, 12, tzinfo=UTC), cluster="prod-eu")


def test_table_lists_namespaces_offenders_and_the_total_cost() -> None:
    out = io.StringIO()
    print_tables(_summary(), Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "namespace batch" in text
    assert "namespace shop" in text
    assert "Deployment/web" in text
    assert "toolchain-base" in text
    assert "top offenders" in text
    assert "build in golang:1.23" in text
    assert "multi-stage builds: `slimgate fix Dockerfile` writes" in text
    assert re.search(r"total\s+│\s+7\s+│\s+1,150\.0 MB", text)


def test_json_document_carries_totals_results_and_offenders() -> None:
    doc = json.loads(json.dumps(audit_document(_summary())))
    assert doc["kind"] == "AuditReport"
    assert doc["totals"]["costBytes"] == 1150 * MB
    assert doc["totals"]["errors"] == 1
    shop = {n["namespace"]: n for n in doc["namespaces"]}["shop"]
    web = {w["name"]: w for w in shop["workloads"]}["web"]
    assert web["result"] == "fail"
    assert web["containers"][0]["results"][0]["rule"] == "toolchain-base"
    assert web["containers"][0]["bloatBytes"] == 300 * MB
    assert doc["offenders"][0]["image"] == "reg/web:1"
    assert doc["offenders"][0]["remediations"][0]["savingMegabytes"] == 300.0
    assert doc["offenders"][0]["remediations"][0]["totalSavingMegabytes"] == 900.0
    fixes = {o["image"]: o["multiStageFix"] for o in doc["offenders"]}
    assert fixes == {"reg/web:1": True, "reg/<script>:1": False}
    debug = {w["name"]: w for w in doc["namespaces"][0]["workloads"]}["debug"]
    assert debug["containers"][0]["error"] == "404 not found"


def test_html_is_self_contained_and_escaped() -> None:
    page = render_html(_summary())
    assert "Multi-stage builds: `slimgate fix Dockerfile` writes" in page
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.replace("reg/&lt;script&gt;", "")
    assert "reg/&lt;script&gt;:1" in page
    # The only URL is the SVG namespace: no stylesheet, font, image or script is fetched.
    assert re.findall(r"https?://[^\"' )]+", page) == ["http://www.w3.org/2000/svg"]
    assert "<link" not in page
    assert "1,150.0 MB" in page
    assert 'data-label="shop"' in page
    assert 'data-label="batch"' in page


def test_bar_chart_scales_bars_to_the_largest_value() -> None:
    svg = bar_chart([("a", 100.0), ("b", 50.0), ("c", 0.0)])
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"[^>]*fill=', svg)]
    assert widths[0] == 2 * widths[1]
    assert widths[2] == 0.0
    assert bar_chart([]) == ""
