"""What one configuration generation serves with, built by the engine assembly.

Each generation's engines come from :func:`slimgate.wiring.build_engines` with the
webhook's arguments: its ``slimgate_registry_*`` observer, lineage resolved in the
background (never waited for on the admission path: a review uses the bases known at that
moment) and the previous generation, whose registry client is kept while its options stay
the same, so a policy change does not throw away the caches. When a reload does replace the
client, the old one is closed after ``RETIRE_SECONDS``: reviews that started on the previous
generation finish within their deadline (at most the apiserver's 30 s ``timeoutSeconds``),
and a lookup the deadline cut off finishes within the registry's own time limits, so by
then nothing uses its connection pool.

With ``registry.pullSecrets`` the Composer keeps one pull-secret reader for the process
(made on first use, so the Kubernetes client is imported only then); its cache outlives
reloads. Per-request engines that also know a pod's pull secrets are
``Engines.for_access``: the same client, caches and memo of analyses.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from pathlib import Path

from slimgate.cluster.nodes import NodePlatforms, NodeSource
from slimgate.cluster.pullsecrets import PullSecrets, SecretSource
from slimgate.config import Settings, load_settings
from slimgate.evaluation import Evaluator
from slimgate.kube.workloads import PodTemplate
from slimgate.model import Platform
from slimgate.webhook.app import Wiring
from slimgate.webhook.metrics import WebhookMetrics
from slimgate.wiring import Engines, RegistryFactory, build_engines, registry_client

RETIRE_SECONDS = 60.0

# Run a callable after some seconds (a daemon timer; tests pass a recorder).
Scheduler = Callable[[float, Callable[[], None]], None]


def later(seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.name = "slimgate-retire-client"
    timer.start()


def kubernetes_secrets() -> SecretSource:
    from slimgate.cluster.secrets import KubernetesSecrets

    return KubernetesSecrets()


def kubernetes_nodes() -> NodeSource:
    from slimgate.cluster.nodes import KubernetesNodes

    return KubernetesNodes()


class Composer:
    """One serving process's factory of :class:`Wiring` generations; ``registry`` makes the
    registry client of a generation that needs a new one."""

    def __init__(
        self,
        metrics: WebhookMetrics,
        *,
        today: Callable[[], datetime.date] = datetime.date.today,
        secrets: Callable[[], SecretSource] = kubernetes_secrets,
        nodes: Callable[[], NodeSource] = kubernetes_nodes,
        schedule: Scheduler = later,
        retire_seconds: float = RETIRE_SECONDS,
        registry: RegistryFactory = registry_client,
    ) -> None:
        self.metrics = metrics
        self._registry = registry
        self._schedule = schedule
        self._retire_seconds = retire_seconds
        self._today = today
        self._secrets = secrets
        self._reader: PullSecrets | None = None
        self._nodes = nodes
        self._node_platforms: NodePlatforms | None = None
        self.engines: Engines | None = None

    def build(self, settings: Settings) -> Wiring:
        """The next generation; a failed build raises and leaves the current one serving."""
        reader = self._pull_secrets(settings) if settings.registry.pull_secrets else None
        engines = build_engines(
            settings,
            observer=self.metrics.lookups,
            lineage="background",
            pull_secrets=reader,
            previous=self.engines,
            today=self._today,
            registry=self._registry,
        )
        previous, self.engines = self.engines, engines
        if previous is not None:
            retire = previous.retire(engines)
            if retire is not None:
                self._schedule(self._retire_seconds, retire)
        platforms_for = self._platforms_for() if settings.registry.node_platforms else None

        def engine_for(template: PodTemplate, budget: float) -> Evaluator:
            return engines.for_access(template.access, budget)

        return Wiring(settings.webhook, engines.shared, engine_for, platforms_for)

    def _platforms_for(self) -> Callable[[PodTemplate], tuple[Platform, ...]]:
        """The node platforms each template's placement allows; the configured platforms
        until the nodes have been listed (the watcher logs why they cannot be)."""
        if self._node_platforms is None:
            self._node_platforms = NodePlatforms(self._nodes())
            self._node_platforms.start()
        watcher = self._node_platforms

        def platforms_for(template: PodTemplate) -> tuple[Platform, ...]:
            return watcher.allowed(template.placement)  # empty: the configured platforms

        return platforms_for

    def _pull_secrets(self, settings: Settings) -> PullSecrets:
        if self._reader is None:
            self._reader = PullSecrets(
                self._secrets(),
                self.metrics.pull_secret_errors.inc,
                ttl=settings.webhook.pull_secret_ttl_seconds,
            )
        return self._reader

    def close(self) -> None:
        """Close the registry client's connections and stop the pull-secret reads."""
        if self.engines is not None:
            self.engines.close()
            self.engines = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._node_platforms is not None:
            self._node_platforms.close()
            self._node_platforms = None

    def build_from(self, path: Path) -> Wiring:
        return self.build(load_settings(path))
