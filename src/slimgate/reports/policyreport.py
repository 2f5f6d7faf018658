"""PolicyReport and openreports Report bodies, one per namespace.

Shapes:

* ``wgpolicyk8s.io/v1alpha2`` ``PolicyReport`` (kubernetes-sigs/wg-policy-prototypes,
  ``policy-report/api/v1alpha2/policyreport_types.go``): ``results[]`` with ``policy``,
  ``rule``, ``result``, ``severity``, ``category``, ``message``, ``resources``
  (ObjectReferences), ``source``, ``properties`` (string → string), ``timestamp``
  (``{seconds, nanos}``); ``summary`` with the five counts.
* ``openreports.io/v1alpha1`` ``Report`` (openreports/reports-api): the same results and
  summary, plus a top-level ``source``. Policy Reporter reads both.

A result's timestamp records when that result was first seen: :func:`carry_timestamps`
keeps the old one for an unchanged result, so an unchanged namespace yields an identical
body and the writer has nothing to send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from slimgate.audit.outcomes import POLICY, SOURCE, RuleResult, summary_counts

REPORT_NAME = "slimgate"
MANAGED_BY = {"app.kubernetes.io/managed-by": "slimgate"}


class Flavour(StrEnum):
    """Which report API to write."""

    POLICY_REPORT = "wgpolicyk8s.io/v1alpha2"
    OPEN_REPORTS = "openreports.io/v1alpha1"

    @property
    def kind(self) -> str:
        return "PolicyReport" if self is Flavour.POLICY_REPORT else "Report"

    @property
    def group(self) -> str:
        return self.value.split("/")[0]

    @property
    def version(self) -> str:
        return self.value.split("/")[1]

    @property
    def plural(self) -> str:
        return "policyreports" if self is Flavour.POLICY_REPORT else "reports"


class Timestamp(TypedDict):
    seconds: int
    nanos: int


class ObjectReference(TypedDict):
    apiVersion: str
    kind: str
    name: str
    namespace: str
    uid: NotRequired[str]


class ResultBody(TypedDict):
    source: str
    policy: str
    rule: str
    result: str
    category: str
    message: str
    resources: list[ObjectReference]
    properties: dict[str, str]
    timestamp: Timestamp
    severity: NotRequired[str]


class ReportBody(TypedDict):
    apiVersion: str
    kind: str
    metadata: dict[str, Any]
    results: list[ResultBody]
    summary: dict[str, int]
    source: NotRequired[str]


def timestamp(moment: datetime) -> Timestamp:
    """``metav1.Timestamp`` for an aware datetime."""
    seconds = int(moment.timestamp())
    return {"seconds": seconds, "nanos": moment.microsecond * 1000}


def result_body(result: RuleResult, moment: Timestamp) -> ResultBody:
    ref = result.resource
    resource: ObjectReference = {
        "apiVersion": ref.api_version,
        "kind": ref.kind,
        "name": ref.name,
        "namespace": ref.namespace,
    }
    if ref.uid:
        resource["uid"] = ref.uid
    body: ResultBody = {
        "source": SOURCE,
        "policy": POLICY,
        "rule": result.rule,
        "result": result.outcome.value,
        "category": result.category,
        "message": result.message,
        "resources": [resource],
        "properties": dict(sorted(result.properties.items())),
        "timestamp": moment,
    }
    if result.severity is not None:
        body["severity"] = result.severity.value
    return body


def report_body(
    namespace: str,
    results: Iterable[RuleResult],
    moment: datetime,
    flavour: Flavour = Flavour.POLICY_REPORT,
    *,
    name: str = REPORT_NAME,
    labels: Mapping[str, str] | None = None,
) -> ReportBody:
    """The full report for ``namespace``; results sorted by workload, container, rule."""
    stamp = timestamp(moment)
    ordered = sorted(results, key=lambda r: r.sort_key)
    bodies = [result_body(r, stamp) for r in ordered]
    body: ReportBody = {
        "apiVersion": flavour.value,
        "kind": flavour.kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, **(labels or {})},
        },
        "results": bodies,
        "summary": summary_counts(r.outcome for r in ordered),
    }
    if flavour is Flavour.OPEN_REPORTS:
        body["source"] = SOURCE
    return body


def _identity(result: ResultBody) -> str:
    """A result without its timestamp, as a comparable string."""
    stripped = {k: v for k, v in result.items() if k != "timestamp"}
    return repr(sorted(stripped.items()))


def carry_timestamps(new: list[ResultBody], old: Iterable[Mapping[str, Any]]) -> list[ResultBody]:
    """Give each result in ``new`` that also appears in ``old`` the old timestamp."""
    previous: dict[str, Timestamp] = {}
    for item in old:
        stamp = item.get("timestamp")
        if isinstance(stamp, dict):
            key = _identity(item)  # type: ignore[arg-type]
            previous[key] = {
                "seconds": int(stamp.get("seconds", 0)),
                "nanos": int(stamp.get("nanos", 0)),
            }
    out: list[ResultBody] = []
    for result in new:
        stamp = previous.get(_identity(result))
        if stamp is not None:
            result = result.copy()
            result["timestamp"] = stamp
        out.append(result)
    return out


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two report bodies carry the same labels, results and summary."""

    def view(body: Mapping[str, Any]) -> tuple[Any, ...]:
        metadata = body.get("metadata") or {}
        return (
            body.get("apiVersion"),
            body.get("kind"),
            dict(metadata.get("labels") or {}),
            body.get("results") or [],
            body.get("summary") or {},
            body.get("source"),
        )

    return view(a) == view(b)
