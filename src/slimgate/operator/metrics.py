"""The operator's Prometheus metrics, on a registry of its own (no process-global state).

``slimgate_audit_*``: passes over namespaces, workloads and images evaluated, current
results by outcome, pass duration, report writes, events, leadership, watched pods; and
the registry client's ``slimgate_registry_*`` (``lookups``), named as the webhook's.
"""

from __future__ import annotations

from slimgate.runtime.metrics import DriverMetrics


class AuditMetrics(DriverMetrics):
    def __init__(self) -> None:
        super().__init__()
        self.scans = self.counter(
            "slimgate_audit_scans",
            "Namespaces audited, by what triggered the pass (change, interval, retry)",
            ["trigger"],
        )
        self.subjects = self.counter(
            "slimgate_audit_subjects_evaluated",
            "Workloads evaluated (one subject per top-level owner)",
        )
        self.images = self.counter(
            "slimgate_audit_images_evaluated",
            "Container images run through the engine (cache misses of the operator)",
        )
        self.results = self.gauge(
            "slimgate_audit_results",
            "Results in the reports, by outcome (pass, fail, warn, error, skip)",
            ["outcome"],
        )
        self.duration = self.histogram(
            "slimgate_audit_duration_seconds",
            "Seconds to audit one namespace: owners, evaluation, report write",
            [],
            (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.writes = self.counter(
            "slimgate_audit_report_writes",
            "Report writes by result (created, replaced, unchanged, skipped, failed)",
            ["kind", "result"],
        )
        self.events = self.counter("slimgate_audit_events", "Kubernetes Events posted on workloads")
        self.leader = self.gauge(
            "slimgate_audit_leader", "1 while this replica holds the lease and writes"
        )
        self.report_apis = self.gauge(
            "slimgate_audit_report_api_served",
            "1 when the configured report API (group/version) is served, 0 when it is missing",
            ["api"],
        )
        self.pods = self.gauge("slimgate_audit_pods", "Pods in the operator's inventory")
        self.pull_secret_errors = self.counter(
            "slimgate_audit_pull_secret_errors",
            "Pull secrets or ServiceAccounts that could not be read (static credentials used)",
        )
