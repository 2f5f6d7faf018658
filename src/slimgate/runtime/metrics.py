"""Every driver's Prometheus metrics start here, with the registry client's counters.

``slimgate_registry_requests_total`` (by host, method and status or error class),
``slimgate_registry_cache_{hits,misses}_total`` (by cache),
``slimgate_registry_credential_program_runs_total`` (by program and outcome), the
registries' rate-limit headers (``slimgate_registry_ratelimit_{limit,remaining}``, by host)
and the shared store's events and state (``slimgate_shared_cache_events_total`` by event,
``slimgate_shared_cache_up``) are registered on the driver's own ``CollectorRegistry``: the
webhook's and the operator's. :class:`RegistryMetrics` is the client's
``RegistryObserver``, so the client itself knows nothing of Prometheus.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DriverMetrics:
    """What every driver's metrics start from: a registry of its own (no process-global
    state), the label-child lookup, the registry client's ``slimgate_registry_*``
    (``lookups``), and one shape to declare the rest in: name, help text, label names."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # ``metric.labels(*values)``, looked up once per label set (``labels()`` takes a lock
        # and validates its arguments on every call)
        self.child: Callable[..., Any] = functools.cache(
            lambda metric, *values: metric.labels(*values)
        )
        self.lookups = RegistryMetrics(self)

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)


class RegistryMetrics:
    """``slimgate_registry_*`` on the driver's registry; a ``RegistryObserver`` for the
    client."""

    def __init__(self, driver: DriverMetrics) -> None:
        self.child = driver.child
        self.requests = driver.counter(
            "slimgate_registry_requests_total",
            "HTTP requests to registries, by host, method and status (or error class)",
            ["host", "method", "status"],
        )
        self.cache_hits = driver.counter(
            "slimgate_registry_cache_hits_total", "Registry cache hits", ["cache"]
        )
        self.cache_misses = driver.counter(
            "slimgate_registry_cache_misses_total", "Registry cache misses", ["cache"]
        )
        self.ratelimit_limit = driver.gauge(
            "slimgate_registry_ratelimit_limit",
            "The ratelimit-limit header of a registry's last answer that sent one",
            ["host"],
        )
        self.ratelimit_remaining = driver.gauge(
            "slimgate_registry_ratelimit_remaining",
            "The ratelimit-remaining header of a registry's last answer that sent one",
            ["host"],
        )
        self.shared_events = driver.counter(
            "slimgate_shared_cache_events",
            "Shared store events: hit, miss, write, forged, wait, wait-expired, stale, "
            "paused, error, down, up",
            ["event"],
        )
        self.shared_up = driver.gauge(
            "slimgate_shared_cache_up",
            "1 while the shared store answers (or none is configured), 0 while it is not asked",
        )
        self.shared_up.set(1)
        self.programs = driver.counter(
            "slimgate_registry_credential_program_runs_total",
            "Runs of credential provider plugins and Docker credential helpers, by program "
            "and outcome (ok, not-found, error, timeout, invalid)",
            ["program", "outcome"],
        )

    def request(self, host: str, method: str, status: int | str, seconds: float = 0.0) -> None:
        self.child(self.requests, host, method, str(status)).inc()

    def cache(self, name: str, hit: bool) -> None:
        self.child(self.cache_hits if hit else self.cache_misses, name).inc()

    def shared(self, event: str) -> None:
        self.child(self.shared_events, event).inc()
        if event == "down":
            self.shared_up.set(0)
        elif event == "up":
            self.shared_up.set(1)

    def rate_limit(self, host: str, limit: int, remaining: int) -> None:
        self.child(self.ratelimit_limit, host).set(limit)
        self.child(self.ratelimit_remaining, host).set(remaining)

    def program(self, name: str, outcome: str) -> None:
        self.child(self.programs, name, outcome).inc()
