"""Apply the desired report of a namespace: create, replace when changed, nothing otherwise.

One report per namespace and flavour (``PolicyReport`` and/or openreports ``Report``),
named ``slimgate`` and labelled ``app.kubernetes.io/managed-by: slimgate``. The last body
seen is kept, so an unchanged namespace costs no request at all; a 409 Conflict or a 404
forgets it and the next pass reads the report again.

Reports are capped at ``max_results`` results (etcd refuses objects past ~1.5 MB): ``pass``
results go first, then ``skip``. A capped report's summary counts the results it holds; the
annotation ``slimgate.io/omitted-results`` says how many were left out, and an openreports
Report also records the cap in ``configuration.limits.maxResults``.

A report of that name that does not carry slimgate's ``managed-by`` label belongs to
someone else: it is never replaced (``Write.FOREIGN``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from slimgate.audit.outcomes import Outcome, RuleResult
from slimgate.cluster.api import Api, Json
from slimgate.errors import KubeError
from slimgate.reports.policyreport import (
    MANAGED_BY,
    REPORT_NAME,
    Flavour,
    carry_timestamps,
    report_body,
    same_content,
)

log = logging.getLogger(__name__)

OMITTED_ANNOTATION = "slimgate.io/omitted-results"
SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())


class Write(StrEnum):
    CREATED = "created"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # nothing to report and no report to empty
    FAILED = "failed"
    FOREIGN = "foreign"  # a report of that name that slimgate does not manage


def cap(results: Sequence[RuleResult], limit: int) -> tuple[list[RuleResult], int]:
    """At most ``limit`` results, dropping ``pass`` then ``skip`` ones; and how many dropped."""
    if len(results) <= limit:
        return list(results), 0
    keep = [r for r in results if r.outcome not in (Outcome.PASS, Outcome.SKIP)]
    for optional in (Outcome.SKIP, Outcome.PASS):
        room = limit - len(keep)
        if room > 0:
            keep.extend([r for r in results if r.outcome is optional][:room])
    keep = keep[:limit]
    return keep, len(results) - len(keep)


class ReportWriter:
    def __init__(
        self,
        api: Api,
        flavours: Sequence[Flavour] = (Flavour.POLICY_REPORT,),
        *,
        name: str = REPORT_NAME,
        max_results: int = 2000,
    ) -> None:
        self.api = api
        self.flavours = tuple(flavours)
        self.name = name
        self.max_results = max_results
        self._known: dict[tuple[Flavour, str], Json] = {}

    def write(
        self, namespace: str, results: Sequence[RuleResult], moment: datetime
    ) -> dict[Flavour, Write]:
        return {f: self._write_one(f, namespace, results, moment) for f in self.flavours}

    def _desired(
        self, flavour: Flavour, namespace: str, results: Sequence[RuleResult], moment: datetime
    ) -> dict[str, Any]:
        kept, omitted = cap(results, self.max_results)
        body: dict[str, Any] = dict(
            report_body(
                namespace,
                kept,
                moment,
                flavour,
                name=self.name,
                max_results=self.max_results if omitted else None,
            )
        )
        if omitted:
            body["metadata"]["annotations"] = {OMITTED_ANNOTATION: str(omitted)}
        return body

    def _write_one(
        self, flavour: Flavour, namespace: str, results: Sequence[RuleResult], moment: datetime
    ) -> Write:
        key = (flavour, namespace)
        desired = self._desired(flavour, namespace, results, moment)
        try:
            current = self._known.get(key)
            if current is None:
                current = self.api.get(flavour.value, flavour.plural, namespace, self.name)
            if current is None:
                if not results:
                    return Write.SKIPPED
                self._known[key] = self.api.create(
                    flavour.value, flavour.plural, namespace, desired
                )
                return Write.CREATED
            if not _ours(current):
                log.warning(
                    "%s %s/%s exists and is not managed by slimgate; leaving it alone",
                    flavour.kind,
                    namespace,
                    self.name,
                )
                return Write.FOREIGN
            desired["results"] = carry_timestamps(desired["results"], current.get("results") or [])
            annotations = (current.get("metadata") or {}).get("annotations") or {}
            wanted = desired["metadata"].get("annotations") or {}
            if same_content(desired, current) and annotations.get(OMITTED_ANNOTATION) == wanted.get(
                OMITTED_ANNOTATION
            ):
                self._known[key] = current
                return Write.UNCHANGED
            metadata = current.get("metadata") or {}
            desired["metadata"]["resourceVersion"] = metadata.get("resourceVersion")
            merged = {k: v for k, v in annotations.items() if k != OMITTED_ANNOTATION}
            merged.update(wanted)
            if merged:
                desired["metadata"]["annotations"] = merged
            self._known[key] = self.api.replace(
                flavour.value, flavour.plural, namespace, self.name, desired
            )
            return Write.REPLACED
        except KubeError as exc:
            self._known.pop(key, None)
            log.warning("cannot write %s %s/%s: %s", flavour.kind, namespace, self.name, exc)
            return Write.FAILED

    def retarget(self, flavours: Sequence[Flavour]) -> None:
        """Write these flavours from now on (the APIs the cluster serves changed)."""
        self.flavours = tuple(flavours)
        self._known.clear()

    def namespaces_with_reports(self) -> set[str]:
        """Namespaces holding a report of ours (to empty those whose workloads left)."""
        found: set[str] = set()
        for flavour in self.flavours:
            try:
                items = self.api.list(flavour.value, flavour.plural, None, SELECTOR)
            except KubeError as exc:
                log.warning("cannot list %s reports: %s", flavour.kind, exc)
                continue
            for item in items:
                metadata = item.get("metadata") or {}
                if metadata.get("name") == self.name and metadata.get("namespace"):
                    found.add(metadata["namespace"])
        return found

    def forget(self) -> None:
        self._known.clear()


def _ours(report: Json) -> bool:
    labels = (report.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in MANAGED_BY.items())
