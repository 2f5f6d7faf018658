"""The audit as JSON: a stable document for scripts and dashboards.

Sizes are bytes (integers); ``*Megabytes`` companions are decimal megabytes rounded to
one place for people reading the raw file. Only results that are not ``pass`` are listed
per container; the counts include every result.
"""

from __future__ import annotations

from typing import Any

from slimgate.audit.bloat import megabytes
from slimgate.audit.outcomes import Outcome, RuleResult
from slimgate.audit.summary import AuditSummary, ContainerRow, NamespaceSummary, WorkloadRow

API_VERSION = "slimgate.io/v1alpha1"
KIND = "AuditReport"


def _mb(size: int) -> float:
    return round(megabytes(size), 1)


def _result(result: RuleResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": result.rule,
        "result": result.outcome.value,
        "message": result.message,
        "category": result.category,
    }
    if result.severity is not None:
        out["severity"] = result.severity.value
    for key in ("remediation", "layer", "saving", "reason", "exemption"):
        if key in result.properties:
            value = result.properties[key]
            out[key] = int(value) if key in ("layer", "saving") else value
    return out


def _container(line: ContainerRow) -> dict[str, Any]:
    container = line.audit
    return {
        "container": container.container.container,
        "image": container.result.image,
        "digest": container.digest,
        "compressedSize": container.compressed_size,
        "replicas": container.replicas,
        "verdict": container.result.decision.verdict.value,
        "result": line.outcome.value,
        "bloatBytes": line.bloat,
        "bloatMegabytes": _mb(line.bloat),
        "error": container.result.error,
        "results": [_result(r) for r in line.results if r.outcome is not Outcome.PASS],
    }


def _row(row: WorkloadRow) -> dict[str, Any]:
    ref = row.audit.workload.ref
    return {
        "apiVersion": ref.api_version,
        "kind": ref.kind,
        "name": ref.name,
        "uid": ref.uid or None,
        "replicas": row.audit.workload.replicas,
        "result": row.outcome.value,
        "costBytes": row.cost,
        "costMegabytes": _mb(row.cost),
        "containers": [_container(line) for line in row.containers],
    }


def _namespace(item: NamespaceSummary) -> dict[str, Any]:
    return {
        "namespace": item.namespace,
        "replicas": item.replicas,
        "costBytes": item.cost,
        "costMegabytes": _mb(item.cost),
        "summary": item.counts,
        "workloads": [_row(row) for row in item.rows],
    }


def audit_document(summary: AuditSummary) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "generated": summary.generated.isoformat(),
        "cluster": summary.cluster,
        "totals": {
            "workloads": summary.workloads,
            "replicas": summary.replicas,
            "images": summary.images,
            "errors": summary.errors,
            "costBytes": summary.cost,
            "costMegabytes": _mb(summary.cost),
            "summary": summary.counts,
        },
        "namespaces": [_namespace(item) for item in summary.namespaces],
        "offenders": [
            {
                "image": o.image,
                "digest": o.digest,
                "compressedSize": o.compressed_size,
                "bloatBytes": o.bloat,
                "bloatMegabytes": _mb(o.bloat),
                "replicas": o.replicas,
                "costBytes": o.cost,
                "costMegabytes": _mb(o.cost),
                "exempt": o.exempt,
                "multiStageFix": o.multi_stage_fix,
                "workloads": [f"{w.namespace}/{w.kind}/{w.name}" for w in o.workloads],
                "remediations": [
                    {
                        "rule": r.rule,
                        "text": r.text,
                        "savingBytes": r.saving,
                        "savingMegabytes": _mb(r.saving),
                        "totalSavingMegabytes": _mb(r.saving * o.replicas),
                    }
                    for r in o.remedies
                ],
            }
            for o in summary.offenders
        ],
    }
