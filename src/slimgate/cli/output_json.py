"""``--output json``: one object, ``{"results": [...]}``, one entry per image as given.

Each entry has ``image``, ``digest``, ``platform``, ``decision``, ``compressed_size``,
``findings`` and ``error`` (the documented contract), plus ``enforced``, ``mode``, ``base``,
``exemption``, ``notes`` and, when several platforms were evaluated, ``platforms``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slimgate.evaluation import ImageResult
from slimgate.policy.decision import DecidedFinding


def finding_json(decided: DecidedFinding) -> dict[str, Any]:
    finding = decided.finding
    return {
        "rule": finding.rule,
        "severity": str(finding.severity),
        "action": str(decided.action),
        "message": finding.message,
        "layer": finding.layer,
        "created_by": finding.created_by,
        "size": finding.size,
        "remediation": finding.remediation,
        "saving": finding.saving,
        "source": finding.source,
    }


def result_json(result: ImageResult) -> dict[str, Any]:
    decision = result.decision
    analysis = result.analysis
    base = analysis.base if analysis is not None else None
    exemption = decision.exemption
    entry: dict[str, Any] = {
        "image": result.image,
        "digest": result.digest,
        "platform": str(result.platform),
        "decision": str(decision.verdict),
        "compressed_size": result.compressed_size,
        "findings": [finding_json(f) for f in decision.findings],
        "error": result.error,
        "enforced": str(decision.enforced),
        "mode": str(decision.mode),
        "base": None
        if base is None
        else {
            "name": base.name,
            "ecosystem": base.ecosystem,
            "method": str(base.method),
            "evidence": base.evidence,
            "reference": base.reference,
        },
        "exemption": None
        if exemption is None
        else {
            "reason": exemption.reason,
            "expires": exemption.expires.isoformat() if exemption.expires else None,
        },
        "notes": list(result.notes),
    }
    if result.per_platform:
        entry["platforms"] = [
            {
                "platform": str(each.platform),
                "digest": each.digest,
                "decision": str(each.decision.verdict),
                "error": each.error,
            }
            for each in result.per_platform
        ]
    return entry


def render_json(results: Sequence[ImageResult]) -> str:
    return json.dumps({"results": [result_json(r) for r in results]}, indent=2)
