"""The operator's brain: an inventory fed by kopf, a loop that audits and writes.

kopf handlers call :meth:`Auditor.pod_event` and return at once: a pod is reduced to a
record and its namespace marked for a (debounced) pass. The loop thread calls
:meth:`Auditor.tick` every second; when this replica leads, it audits the namespaces that
are due — owners (cached), evaluation (cached between re-scans, errors never cached),
results, report write when changed, events — and every ``interval`` seconds it re-lists
every pod and audits everything again, which catches moved tags and policy changes.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from slimgate.audit.auditing import Evaluate, Key, audit_workloads, evaluation_keys
from slimgate.audit.inventory import Inventory, group_workloads
from slimgate.audit.outcomes import DEFAULT_RULES, RuleResult, summary_counts, workload_results
from slimgate.audit.owners import OwnerLookup, top_owner
from slimgate.audit.pods import pod_record
from slimgate.audit.results import Evaluated
from slimgate.cluster.api import Api
from slimgate.errors import KubeError, ObjectShapeError
from slimgate.operator.apis import ReportApis
from slimgate.operator.events import EventRecorder
from slimgate.operator.metrics import AuditMetrics
from slimgate.operator.timing import Debouncer
from slimgate.operator.writer import ReportWriter

log = logging.getLogger(__name__)


class ScanTrigger(StrEnum):
    """Why a namespace is audited (the ``trigger`` label of ``slimgate_audit_scans``)."""

    INTERVAL = "interval"  # the full re-scan
    CHANGE = "change"  # its pods changed (debounced)
    RETRY = "retry"  # its last pass had unreadable images


class Leader(Protocol):
    leading: bool

    def step(self) -> bool: ...

    def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AuditSettings:
    interval: float = 3600.0  # full re-scan
    quiet: float = 2.0  # debounce: seconds without change before a namespace is written
    longest: float = 30.0  # debounce: at most this long after the first change
    error_retry: float = 60.0  # re-audit a namespace with unreadable images this soon
    namespaces: tuple[str, ...] = ()  # globs; empty: every namespace
    excluded: tuple[str, ...] = ("kube-system",)  # globs
    rules: tuple[str, ...] = DEFAULT_RULES
    workers: int = 4

    def watches(self, namespace: str) -> bool:
        if any(fnmatch.fnmatchcase(namespace, p) for p in self.excluded):
            return False
        return not self.namespaces or any(
            fnmatch.fnmatchcase(namespace, p) for p in self.namespaces
        )


class Auditor:
    def __init__(
        self,
        settings: AuditSettings,
        *,
        api: Api,
        evaluate: Evaluate,
        owners: OwnerLookup,
        writer: ReportWriter,
        events: EventRecorder,
        leader: Leader,
        metrics: AuditMetrics,
        apis: ReportApis | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.api = api
        self.evaluate = evaluate
        self.owners = owners
        self.writer = writer
        self.events = events
        self.leader = leader
        self.metrics = metrics
        self.apis = apis
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._inventory = Inventory()
        self._debouncer = Debouncer(settings.quiet, settings.longest)
        self._retry: dict[str, float] = {}
        self._known: dict[Key, Evaluated] = {}
        self._next_rescan: float | None = None  # None: re-scan as soon as leading
        self._counts: dict[str, dict[str, int]] = {}  # namespace -> outcome -> results
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="slimgate-eval")

    # -- fed by kopf ---------------------------------------------------------------------

    def pod_event(self, event_type: str | None, pod: Mapping[str, Any]) -> None:
        """A watch event (``None`` for the initial listing, ADDED, MODIFIED, DELETED)."""
        metadata = pod.get("metadata") or {}
        namespace, name = metadata.get("namespace"), metadata.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            return
        if not self.settings.watches(namespace):
            return
        with self._lock:
            if event_type == "DELETED":
                changed = self._inventory.remove(namespace, name)
            else:
                try:
                    record = pod_record(pod)
                except ObjectShapeError as exc:
                    log.warning("ignoring pod %s/%s: %s", namespace, name, exc)
                    return
                changed = self._inventory.upsert(record)
            if changed:
                self._debouncer.touch(namespace, self._monotonic())
            self.metrics.pods.set(len(self._inventory))

    # -- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event, period: float = 1.0) -> None:
        """Tick until ``stop`` is set; never dies of an exception in one pass."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # the loop must outlive any single failure
                log.exception("audit pass failed; retrying")
            stop.wait(period)
        self.leader.release()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def tick(self) -> list[str]:
        """One pass: elect, maybe re-scan, audit what is due. Returns the namespaces audited."""
        was_leading = self.leader.leading
        leading = self.leader.step()
        self.metrics.leader.set(1 if leading else 0)
        if not leading:
            if was_leading:
                self.writer.forget()
            self._next_rescan = None
            return []
        now = self._monotonic()
        triggers: dict[str, ScanTrigger] = {}
        if self._next_rescan is None or now >= self._next_rescan:
            for namespace in self.rescan():
                triggers[namespace] = ScanTrigger.INTERVAL
            self._next_rescan = now + self.settings.interval
        with self._lock:
            for namespace in self._debouncer.due(now):
                triggers.setdefault(namespace, ScanTrigger.CHANGE)
        for namespace, when in list(self._retry.items()):
            if now >= when:
                triggers.setdefault(namespace, ScanTrigger.RETRY)
                del self._retry[namespace]
        for namespace in sorted(triggers):
            self.audit_namespace(namespace, triggers[namespace])
        return sorted(triggers)

    def rescan(self) -> set[str]:
        """Re-list every pod, forget cached evaluations; every namespace with pods or a report."""
        if self.apis is not None and not self.apis.complete:
            served = self.apis.check()
            if served != self.writer.flavours:
                self.writer.retarget(served)
        try:
            pods = self.api.list("v1", "pods")
        except KubeError as exc:
            log.warning("cannot list pods: %s; auditing the watched inventory", exc)
            pods = None
        records = []
        for pod in pods or ():
            namespace = (pod.get("metadata") or {}).get("namespace") or ""
            if not self.settings.watches(namespace):
                continue
            try:
                records.append(pod_record(pod))
            except ObjectShapeError:
                continue
        with self._lock:
            if pods is not None:
                self._inventory.replace_all(records)
            self._known.clear()
            namespaces = self._inventory.namespaces()
            self.metrics.pods.set(len(self._inventory))
        reported = {ns for ns in self.writer.namespaces_with_reports() if self.settings.watches(ns)}
        return namespaces | reported

    def audit_namespace(
        self, namespace: str, trigger: ScanTrigger = ScanTrigger.CHANGE
    ) -> list[RuleResult]:
        started = time.perf_counter()
        with self._lock:
            pods = self._inventory.pods(namespace)
            known = dict(self._known)
        workloads = group_workloads(pods, lambda pod: top_owner(pod, self.owners))
        audits = audit_workloads(workloads, self.evaluate, map_=self._pool.map, known=known)
        fresh = {
            key: result
            for key, result in evaluation_keys(audits).items()
            if key not in known and result.error is None
        }
        results: list[RuleResult] = []
        for audit in audits:
            results.extend(workload_results(audit, self.settings.rules))
        outcome = self.writer.write(namespace, results, self._wall())
        for flavour, written in outcome.items():
            self.metrics.writes.labels(flavour.kind, written.value).inc()
        posted = sum(self.events.record(audit) for audit in audits)
        errors = any(c.result.error for a in audits for c in a.containers)
        with self._lock:
            self._known.update(fresh)
            if errors:
                self._retry[namespace] = self._monotonic() + self.settings.error_retry
            else:
                self._retry.pop(namespace, None)
        self._counts[namespace] = summary_counts(r.outcome for r in results)
        totals: Counter[str] = Counter()
        for counts in self._counts.values():
            totals.update(counts)  # keeps the zeros, so each outcome's gauge is set
        for name, value in totals.items():
            self.metrics.results.labels(name).set(value)
        self.metrics.scans.labels(trigger).inc()
        self.metrics.subjects.inc(len(audits))
        self.metrics.images.inc(len(fresh))
        self.metrics.events.inc(posted)
        self.metrics.duration.observe(time.perf_counter() - started)
        log.info(
            "audited namespace %s (%s): %d workloads, %d results, report %s",
            namespace,
            trigger,
            len(audits),
            len(results),
            ",".join(f"{f.kind}={w.value}" for f, w in outcome.items()),
        )
        return results
