"""Builds what one configuration generation serves with, from the validated configuration.

The registry client is kept across reloads while its options stay the same, so a policy
change does not throw away the caches. When a reload does replace it, the old client is
closed after ``RETIRE_SECONDS``: reviews that started on the previous generation finish
within their deadline (at most the apiserver's 30 s ``timeoutSeconds``), and a lookup the
deadline cut off finishes within the registry's own time limits, so by then nothing uses
its connection pool. Per-request engines that also know a pod's pull
secrets share that client (``RegistryClient.with_credentials``).

Layer-digest lineage (``registry.knownToolchainImages``) is resolved in the background and
never waited for on the admission path: a review uses the bases known at that moment.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from slimgate.cluster.pullsecrets import PullSecrets, SecretSource
from slimgate.cluster.secrets import KubernetesSecrets
from slimgate.config import Settings, load_settings
from slimgate.evaluation import Evaluator, ImageSource, LineageProvider
from slimgate.kube.workloads import PodTemplate
from slimgate.lineage_resolver import LineageResolver
from slimgate.registry import CredentialStore, RegistryClient, RegistryOptions
from slimgate.webhook.app import Wiring
from slimgate.webhook.engine import Engine
from slimgate.webhook.metrics import WebhookMetrics

RETIRE_SECONDS = 60.0

# Run a callable after some seconds (a daemon timer; tests pass a recorder).
Scheduler = Callable[[float, Callable[[], None]], None]


def later(seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.name = "slimgate-retire-client"
    timer.start()


def make_engine(
    source: ImageSource,
    settings: Settings,
    today: Callable[[], datetime.date],
    lineage: LineageProvider | None = None,
) -> Evaluator:
    """The shared Evaluator over ``source``: the same engine ``slimgate check`` runs."""
    return Evaluator(
        source,
        settings.policy,
        settings.knowledge,
        today=today,
        lineage=lineage,
        clock=time.thread_time,
    )


class Composer:
    """One serving process's factory of :class:`Wiring` generations."""

    def __init__(
        self,
        metrics: WebhookMetrics,
        *,
        today: Callable[[], datetime.date] = datetime.date.today,
        secrets: Callable[[], SecretSource] = KubernetesSecrets,
        schedule: Scheduler = later,
        retire_seconds: float = RETIRE_SECONDS,
    ) -> None:
        self.metrics = metrics
        self._schedule = schedule
        self._retire_seconds = retire_seconds
        self._today = today
        self._secrets_factory = secrets
        self._secrets: SecretSource | None = None
        self._secret_reads: ThreadPoolExecutor | None = None
        self._client: RegistryClient | None = None
        self._client_key: tuple[RegistryOptions, str | None] | None = None
        self._resolver: tuple[tuple[RegistryClient, Any], LineageResolver] | None = None

    def client(self, settings: Settings) -> RegistryClient:
        options, docker_config = settings.registry.options, settings.registry.docker_config
        key = (options, docker_config)
        if self._client is None or key != self._client_key:
            static = CredentialStore.from_file(docker_config) if docker_config else None
            self._client = RegistryClient.from_options(
                options, credentials=static, observer=self.metrics.lookups
            )
            self._client_key = key
        return self._client

    def build(self, settings: Settings) -> Wiring:
        previous = self._client
        wiring = self._build(settings)
        # Only once the new generation exists: a failed build leaves the old one serving.
        if previous is not None and previous is not self._client:
            self._schedule(self._retire_seconds, previous.close)
        return wiring

    def _build(self, settings: Settings) -> Wiring:
        hook = settings.webhook
        client = self.client(settings)
        lineage = self._lineage(settings, client)
        engine = make_engine(client, settings, self._today, lineage)
        if not settings.registry.pull_secrets:
            return Wiring(hook, engine)
        if self._secrets is None:
            self._secrets = self._secrets_factory()
        if self._secret_reads is None:
            self._secret_reads = ThreadPoolExecutor(
                max_workers=4, thread_name_prefix="slimgate-pull-secrets"
            )
        reader = PullSecrets(
            self._secrets,
            self.metrics.pull_secret_errors.inc,
            ttl=hook.pull_secret_ttl_seconds,
            executor=self._secret_reads,
        )

        def engine_for(template: PodTemplate, budget: float) -> Engine:
            store = reader.store_for(template.access, budget)
            if store is None:
                return engine
            return engine.with_source(client.with_credentials(store))

        return Wiring(hook, engine, engine_for)

    def _lineage(self, settings: Settings, client: RegistryClient) -> LineageProvider | None:
        images = settings.registry.toolchain_images
        if not images:
            return None
        if self._resolver is None or self._resolver[0] != (client, images):
            resolver = LineageResolver(client, images, wait_seconds=0.0)
            self._resolver = ((client, images), resolver)
        return self._resolver[1]

    def close(self) -> None:
        """Close the registry client's connections and stop the pull-secret reads."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._secret_reads is not None:
            self._secret_reads.shutdown(wait=False, cancel_futures=True)
            self._secret_reads = None

    def build_from(self, path: Path) -> Wiring:
        return self.build(load_settings(path))
