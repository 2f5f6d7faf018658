"""Prometheus metrics of the webhook, on a registry created by the app factory.

Names follow the Prometheus conventions (``slimgate_*_total`` counters, ``*_seconds``
histograms). The registry client's counters are :class:`slimgate.runtime.metrics.
RegistryMetrics` (``lookups``), the observer the client reports to, as in the operator.

With several worker processes each has its own counters; ``/metrics`` then shows
the process that answered the scrape. slimgate runs one worker per pod by default (see
``serve``), so a scrape sees the whole pod.
"""

from __future__ import annotations

from slimgate.runtime.metrics import DriverMetrics

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class WebhookMetrics(DriverMetrics):
    """Every metric the webhook exports."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = self.counter(
            "slimgate_admission_requests_total",
            "Admission reviews answered, by decision returned, decision enforce mode "
            "would have returned, and kind",
            ["decision", "enforced", "kind"],
        )
        self.duration = self.histogram(
            "slimgate_admission_duration_seconds",
            "Time to answer an admission review",
            ["kind"],
            DURATION_BUCKETS,
        )
        self.invalid = self.counter(
            "slimgate_admission_invalid_requests_total",
            "Requests that were not a readable AdmissionReview, answered with 400",
        )
        self.images = self.counter(
            "slimgate_admission_images_total",
            "Container images evaluated, by verdict",
            ["decision"],
        )
        self.deadline = self.counter(
            "slimgate_admission_deadline_exceeded_total",
            "Images given the onRegistryError decision because the deadline expired",
        )
        self.findings = self.counter(
            "slimgate_findings_total",
            "Findings in admission reviews, by rule and configured action",
            ["rule", "action"],
        )
        self.pull_secret_errors = self.counter(
            "slimgate_pull_secret_errors_total",
            "Pull secrets or service accounts that could not be read",
        )
        self.reloads = self.counter(
            "slimgate_config_reloads_total", "Configuration reloads that succeeded"
        )
        self.reload_failures = self.counter(
            "slimgate_config_reload_failures_total",
            "Changed configuration files that did not validate (the old one stays)",
        )
        self.reload_success = self.gauge(
            "slimgate_config_last_reload_success",
            "1 when the last configuration (re)load succeeded, 0 when it failed",
        )
        self.reload_success.set(1)
        self.tls_reloads = self.counter(
            "slimgate_tls_reloads_total",
            "Serving certificate/key pairs reloaded after the files changed",
        )
        self.tls_reload_failures = self.counter(
            "slimgate_tls_reload_failures_total",
            "Changed certificate/key files that did not load as a pair (the old one stays)",
        )


class TlsCounters:
    """The certificate store's observer, feeding :class:`WebhookMetrics`."""

    def __init__(self, metrics: WebhookMetrics) -> None:
        self._metrics = metrics

    def reloaded(self) -> None:
        self._metrics.tls_reloads.inc()

    def rejected(self) -> None:
        self._metrics.tls_reload_failures.inc()
