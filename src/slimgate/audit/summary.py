"""The audit's answer for a whole cluster: per-namespace results, totals, offenders, cost.

:func:`summarize` is the one place where workload audits become numbers, and where each
container's results, worst outcome and bloat are picked out of its workload's; the table,
JSON and HTML renderers (:mod:`slimgate.reports`) only lay out an :class:`AuditSummary`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from slimgate.audit.bloat import Offender, bloat_bytes, offenders, workload_cost
from slimgate.audit.outcomes import (
    DEFAULT_RULES,
    Outcome,
    RuleResult,
    summary_counts,
    workload_results,
)
from slimgate.audit.results import ContainerAudit, WorkloadAudit


def _worst(results: Iterable[RuleResult]) -> Outcome:
    return max((r.outcome for r in results), key=list(Outcome).index, default=Outcome.PASS)


@dataclass(frozen=True, slots=True)
class ContainerRow:
    """One container of a workload: its own results, worst outcome and bloat per replica."""

    audit: ContainerAudit
    results: tuple[RuleResult, ...]
    bloat: int

    @property
    def outcome(self) -> Outcome:
        return _worst(self.results)

    @property
    def cost(self) -> int:
        return self.bloat * self.audit.replicas

    @property
    def flagged(self) -> tuple[RuleResult, ...]:
        """The results that find something wrong: fail, warn and error."""
        wrong = (Outcome.FAIL, Outcome.WARN, Outcome.ERROR)
        return tuple(r for r in self.results if r.outcome in wrong)


@dataclass(frozen=True, slots=True)
class WorkloadRow:
    """A workload with its results, worst outcome and bloat cost, and its containers'."""

    audit: WorkloadAudit
    results: tuple[RuleResult, ...]
    cost: int
    containers: tuple[ContainerRow, ...] = ()

    @property
    def outcome(self) -> Outcome:
        return _worst(self.results)


def _row(audit: WorkloadAudit, rules: Sequence[str]) -> WorkloadRow:
    results = workload_results(audit, rules)
    containers = tuple(
        ContainerRow(
            container,
            tuple(
                r
                for r in results
                if r.container == container.container.container
                and r.image == container.result.image
            ),
            bloat_bytes(container.result),
        )
        for container in audit.containers
    )
    return WorkloadRow(audit, results, workload_cost(audit), containers)


@dataclass(frozen=True, slots=True)
class NamespaceSummary:
    namespace: str
    rows: tuple[WorkloadRow, ...]
    counts: dict[str, int]
    cost: int
    replicas: int


@dataclass(frozen=True, slots=True)
class AuditSummary:
    generated: datetime
    cluster: str | None
    namespaces: tuple[NamespaceSummary, ...]
    offenders: tuple[Offender, ...]
    counts: dict[str, int]
    cost: int
    replicas: int
    workloads: int
    images: int  # distinct images evaluated
    errors: int  # container images that could not be evaluated

    def namespace(self, name: str) -> NamespaceSummary | None:
        return next((item for item in self.namespaces if item.namespace == name), None)


def summarize(
    audits: Iterable[WorkloadAudit],
    *,
    generated: datetime,
    cluster: str | None = None,
    rules: Sequence[str] = DEFAULT_RULES,
    top: int | None = 10,
) -> AuditSummary:
    ordered = sorted(audits, key=lambda a: a.workload.ref)
    by_namespace: dict[str, list[WorkloadRow]] = {}
    for audit in ordered:
        by_namespace.setdefault(audit.namespace, []).append(_row(audit, rules))
    namespaces = tuple(
        NamespaceSummary(
            namespace=name,
            rows=tuple(rows),
            counts=summary_counts(r.outcome for row in rows for r in row.results),
            cost=sum(row.cost for row in rows),
            replicas=sum(row.audit.workload.replicas for row in rows),
        )
        for name, rows in sorted(by_namespace.items())
    )
    images = {c.digest or c.result.image for audit in ordered for c in audit.containers}
    errors = sum(1 for audit in ordered for c in audit.containers if c.result.error is not None)
    return AuditSummary(
        generated=generated,
        cluster=cluster,
        namespaces=namespaces,
        offenders=offenders(ordered, top),
        counts=summary_counts(
            r.outcome for ns in namespaces for row in ns.rows for r in row.results
        ),
        cost=sum(ns.cost for ns in namespaces),
        replicas=sum(ns.replicas for ns in namespaces),
        workloads=len(ordered),
        images=len(images),
        errors=errors,
    )
