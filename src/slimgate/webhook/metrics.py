"""Prometheus metrics of the webhook, on a registry created by the app factory.

Names follow the Prometheus conventions (``slimgate_*_total`` counters, ``*_seconds``
histograms). The registry client's counters are :class:`slimgate.runtime.metrics.
RegistryMetrics` (``lookups``), the observer the client reports to, as in the operator.

With several worker processes each has its own counters; ``/metrics`` then shows
the process that answered the scrape. slimgate runs one worker per pod by default (see
``serve``), so a scrape sees the whole pod.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from slimgate.runtime.metrics import Children, RegistryMetrics

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WebhookMetrics:
    """Every metric the webhook exports, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.child = Children()
        r = self.registry
        self.requests = Counter(
            "slimgate_admission_requests_total",
            "Admission reviews answered, by decision returned, decision enforce mode "
            "would have returned, and kind",
            ["decision", "enforced", "kind"],
            registry=r,
        )
        self.duration = Histogram(
            "slimgate_admission_duration_seconds",
            "Time to answer an admission review",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.invalid = Counter(
            "slimgate_admission_invalid_requests_total",
            "Requests that were not a readable AdmissionReview, answered with 400",
            registry=r,
        )
        self.images = Counter(
            "slimgate_admission_images_total",
            "Container images evaluated, by verdict",
            ["decision"],
            registry=r,
        )
        self.deadline = Counter(
            "slimgate_admission_deadline_exceeded_total",
            "Images given the onRegistryError decision because the deadline expired",
            registry=r,
        )
        self.findings = Counter(
            "slimgate_findings_total",
            "Findings in admission reviews, by rule and configured action",
            ["rule", "action"],
            registry=r,
        )
        self.lookups = RegistryMetrics(r, self.child)
        self.pull_secret_errors = Counter(
            "slimgate_pull_secret_errors_total",
            "Pull secrets or service accounts that could not be read",
            registry=r,
        )
        self.reloads = Counter(
            "slimgate_config_reloads_total", "Configuration reloads that succeeded", registry=r
        )
        self.reload_failures = Counter(
            "slimgate_config_reload_failures_total",
            "Changed configuration files that did not validate (the old one stays)",
            registry=r,
        )
        self.reload_success = Gauge(
            "slimgate_config_last_reload_success",
            "1 when the last configuration (re)load succeeded, 0 when it failed",
            registry=r,
        )
        self.reload_success.set(1)
        self.tls_reloads = Counter(
            "slimgate_tls_reloads_total",
            "Serving certificate/key pairs reloaded after the files changed",
            registry=r,
        )
        self.tls_reload_failures = Counter(
            "slimgate_tls_reload_failures_total",
            "Changed certificate/key files that did not load as a pair (the old one stays)",
            registry=r,
        )


class TlsCounters:
    """The certificate store's observer, feeding :class:`WebhookMetrics`."""

    def __init__(self, metrics: WebhookMetrics) -> None:
        self._metrics = metrics

    def reloaded(self) -> None:
        self._metrics.tls_reloads.inc()

    def rejected(self) -> None:
        self._metrics.tls_reload_failures.inc()
