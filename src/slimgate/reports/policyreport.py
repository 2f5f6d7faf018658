"""PolicyReport and openreports Report bodies, one per namespace.

Shapes:

* ``wgpolicyk8s.io/v1alpha2`` ``PolicyReport`` (kubernetes-sigs/wg-policy-prototypes,
  ``policy-report/pkg/api/wgpolicyk8s.io/v1alpha2/policyreport_types.go`` at commit
  25056e1f3eb5cab1e693b8c880eb693a84e099af): ``results[]`` with ``policy``, ``rule``,
  ``result``, ``severity``, ``category``, ``message``, ``resources`` (ObjectReferences),
  ``source``, ``properties`` (string → string), ``timestamp`` (``{seconds, nanos}``);
  ``summary`` with the five counts. No report-level ``source`` or ``configuration``: a
  server whose CRD also serves v1beta1 prunes them from a v1alpha2 write.
* ``openreports.io/v1alpha1`` ``Report`` (openreports/reports-api,
  ``apis/openreports.io/v1alpha1/report_types.go`` at tag v0.2.1,
  b7afe2eae0fdc4aa8df7252d56dbf1b191152cbd): the same results and summary, plus a
  top-level ``source`` and ``configuration.limits`` (how a capped report says so).

Every result carries ``properties.resultID``, a digest of namespace, workload, container,
image and rule. Policy Reporter uses it as the result's key when present
(kyverno/policy-reporter ``pkg/report/result/id_generator.go`` at policy-reporter-3.9.1);
its default key hashes resource, policy, rule, result, category and message only, so two
containers of one workload with the same finding would collapse into one result.
Every result has a ``severity`` (``info`` when the rule found nothing), and its resource
names the container in ``fieldPath`` (``spec.template.spec.containers{app}``).

A result's timestamp records when that result was first seen: :func:`carry_timestamps`
keeps the old one for an unchanged result, so an unchanged namespace yields an identical
body and the writer has nothing to send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from slimgate.analysis.findings import Severity
from slimgate.audit.outcomes import POLICY, SOURCE, RuleResult, summary_counts
from slimgate.kube.workloads import TEMPLATE_PATHS

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
    fieldPath: NotRequired[str]


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
    severity: str


class Limits(TypedDict):
    maxResults: int


class Configuration(TypedDict):
    limits: Limits


class ReportBody(TypedDict):
    apiVersion: str
    kind: str
    metadata: dict[str, Any]
    results: list[ResultBody]
    summary: dict[str, int]
    source: NotRequired[str]
    configuration: NotRequired[Configuration]


def timestamp(moment: datetime) -> Timestamp:
    """``metav1.Timestamp`` for an aware datetime."""
    seconds = int(moment.timestamp())
    return {"seconds": seconds, "nanos": moment.microsecond * 1000}


def result_id(result: RuleResult) -> str:
    """A key for ``result`` unique in the cluster and stable across passes.

    Namespace, workload kind and name, container, image and rule: what tells two results
    apart. Not the outcome or message, so a result that changes keeps its key.
    """
    ref = result.resource
    parts = (ref.namespace, ref.kind, ref.name, result.container, result.image, result.rule)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def container_field_path(result: RuleResult) -> str:
    """``fieldPath`` of the container in the workload, as ObjectReference spells it.

    ``spec.containers[0].image`` (the pod's path) becomes ``spec.template.spec.containers{app}``
    for a Deployment; a workload without a pod template path keeps the pod's path.
    """
    pod_path = str(result.properties.get("fieldPath", ""))
    list_name = pod_path.split(".")[1].split("[")[0] if pod_path.count(".") >= 1 else ""
    if list_name not in ("containers", "initContainers", "ephemeralContainers"):
        list_name = "containers"
    prefix = "".join(f"{part}." for part in (*_TEMPLATES.get(result.resource.kind, ()), "spec"))
    return f"{prefix}{list_name}{{{result.container}}}"


# Where a kind keeps its pod template (a retired group names the same path).
_TEMPLATES = {kind: path for (_, kind), path in TEMPLATE_PATHS.items()}


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
    if result.container:
        resource["fieldPath"] = container_field_path(result)
    properties = dict(result.properties)
    properties["resultID"] = result_id(result)
    body: ResultBody = {
        "source": SOURCE,
        "policy": POLICY,
        "rule": result.rule,
        "result": result.outcome.value,
        "category": result.category,
        "message": result.message,
        "resources": [resource],
        "properties": dict(sorted(properties.items())),
        "timestamp": moment,
        "severity": (result.severity or Severity.INFO).value,
    }
    return body


def report_body(
    namespace: str,
    results: Iterable[RuleResult],
    moment: datetime,
    flavour: Flavour = Flavour.POLICY_REPORT,
    *,
    name: str = REPORT_NAME,
    labels: Mapping[str, str] | None = None,
    max_results: int | None = None,
) -> ReportBody:
    """The report for ``namespace``; results sorted by workload, container, rule.

    ``max_results`` is the cap the results were cut to, if any: an openreports Report
    records it in ``configuration.limits``. The summary counts the results the report holds.
    """
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
        if max_results is not None:
            body["configuration"] = {"limits": {"maxResults": max_results}}
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
    return [{**r, "timestamp": previous.get(_identity(r), r["timestamp"])} for r in new]


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
            body.get("configuration"),
        )

    return view(a) == view(b)
