"""The operator's Prometheus metrics, on a registry of its own (no process-global state).

``slimgate_audit_*``: passes over namespaces, workloads and images evaluated, current
results by outcome, pass duration, report writes, events, leadership, watched pods; and
the registry client's ``slimgate_registry_*`` (``lookups``), named as the webhook's.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from slimgate.runtime.metrics import RegistryMetrics


class AuditMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.scans = Counter(
            "slimgate_audit_scans",
            "Namespaces audited, by what triggered the pass (change, interval, retry)",
            ["trigger"],
            registry=r,
        )
        self.subjects = Counter(
            "slimgate_audit_subjects_evaluated",
            "Workloads evaluated (one subject per top-level owner)",
            registry=r,
        )
        self.images = Counter(
            "slimgate_audit_images_evaluated",
            "Container images run through the engine (cache misses of the operator)",
            registry=r,
        )
        self.results = Gauge(
            "slimgate_audit_results",
            "Results in the reports, by outcome (pass, fail, warn, error, skip)",
            ["outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "slimgate_audit_duration_seconds",
            "Seconds to audit one namespace: owners, evaluation, report write",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.writes = Counter(
            "slimgate_audit_report_writes",
            "Report writes by result (created, replaced, unchanged, skipped, failed)",
            ["kind", "result"],
            registry=r,
        )
        self.events = Counter(
            "slimgate_audit_events", "Kubernetes Events posted on workloads", registry=r
        )
        self.leader = Gauge(
            "slimgate_audit_leader", "1 while this replica holds the lease and writes", registry=r
        )
        self.report_apis = Gauge(
            "slimgate_audit_report_api_served",
            "1 when the configured report API (group/version) is served, 0 when it is missing",
            ["api"],
            registry=r,
        )
        self.pods = Gauge("slimgate_audit_pods", "Pods in the operator's inventory", registry=r)
        self.pull_secret_errors = Counter(
            "slimgate_audit_pull_secret_errors",
            "Pull secrets or ServiceAccounts that could not be read (static credentials used)",
            registry=r,
        )
        self.lookups = RegistryMetrics(r)
