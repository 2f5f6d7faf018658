"""The registry client's Prometheus counters, for every driver that exports metrics.

``slimgate_registry_requests_total`` (by host, method and status or error class),
``slimgate_registry_cache_{hits,misses}_total`` (by cache) and
``slimgate_registry_credential_program_runs_total`` (by program and outcome) are registered
on the driver's own ``CollectorRegistry``: the webhook's and the operator's.
:class:`RegistryMetrics` is the client's ``RegistryObserver``, so the client itself knows
nothing of Prometheus.
"""

from __future__ import annotations

from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)


class Children:
    """``metric.labels(*values)``, looked up once per label set (``labels()`` takes a lock
    and validates its arguments on every call)."""

    def __init__(self) -> None:
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def __call__(self, metric: M, *values: str) -> M:
        key = (id(metric), values)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found


class RegistryMetrics:
    """``slimgate_registry_*`` on ``registry``; a ``RegistryObserver`` for the client."""

    def __init__(self, registry: CollectorRegistry, children: Children | None = None) -> None:
        self.child = children if children is not None else Children()
        self.requests = Counter(
            "slimgate_registry_requests_total",
            "HTTP requests to registries, by host, method and status (or error class)",
            ["host", "method", "status"],
            registry=registry,
        )
        self.cache_hits = Counter(
            "slimgate_registry_cache_hits_total",
            "Registry cache hits",
            ["cache"],
            registry=registry,
        )
        self.cache_misses = Counter(
            "slimgate_registry_cache_misses_total",
            "Registry cache misses",
            ["cache"],
            registry=registry,
        )

        self.programs = Counter(
            "slimgate_registry_credential_program_runs_total",
            "Runs of credential provider plugins and Docker credential helpers, by program "
            "and outcome (ok, not-found, error, timeout, invalid)",
            ["program", "outcome"],
            registry=registry,
        )

    def request(self, host: str, method: str, status: int | str, seconds: float = 0.0) -> None:
        self.child(self.requests, host, method, str(status)).inc()

    def cache(self, name: str, hit: bool) -> None:
        self.child(self.cache_hits if hit else self.cache_misses, name).inc()

    def program(self, name: str, outcome: str) -> None:
        self.child(self.programs, name, outcome).inc()
