"""Builds what one configuration generation serves with, from the validated configuration.

The registry client is kept across reloads while its options stay the same, so a policy
change does not throw away the caches. Per-request engines that also know a pod's pull
secrets share that client (``RegistryClient.with_credentials``).

Until :class:`slimgate.evaluation.Evaluator` exists, :class:`InterimEvaluator` stands in
for it: the registry lookup, the analysis (without layer-digest lineage) and the decision.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slimgate import evaluation
from slimgate.analysis.engine import analyse
from slimgate.analysis.findings import Analysis
from slimgate.analysis.knowledge import Knowledge, Thresholds
from slimgate.config import Config, load_config
from slimgate.errors import RegistryError
from slimgate.evaluation import ImageSource
from slimgate.kube.workloads import PodTemplate
from slimgate.model import DEFAULT_PLATFORM, ImageMetadata, Platform, Subject
from slimgate.policy.decide import decide, decide_unreadable
from slimgate.policy.decision import Decision
from slimgate.policy.model import Policy
from slimgate.registry import CredentialStore, RegistryClient, RegistryOptions
from slimgate.webhook.app import Wiring
from slimgate.webhook.engine import Engine
from slimgate.webhook.metrics import RegistryCounters, WebhookMetrics
from slimgate.webhook.pullsecrets import KubernetesSecrets, PullSecrets, SecretSource
from slimgate.webhook.settings import WebhookSettings


@dataclass(frozen=True, slots=True)
class InterimResult:
    image: str
    platform: Platform
    decision: Decision
    metadata: ImageMetadata | None
    analysis: Analysis | None
    error: str | None


class InterimEvaluator:
    """Registry lookup, analysis (no lineage) and decision, until the shared Evaluator lands."""

    def __init__(
        self,
        source: ImageSource,
        policy: Policy,
        knowledge: Knowledge,
        today: Callable[[], datetime.date],
    ) -> None:
        self._source = source
        self._policy = policy
        self._knowledge = knowledge
        self._today = today

    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> InterimResult:
        platform = platforms[0] if platforms else DEFAULT_PLATFORM
        try:
            metadata = self._source.fetch(image, platform)
        except RegistryError as exc:
            return self.unreadable(image, subject, str(exc), platform)
        analysis = analyse(metadata, self._knowledge)
        decision = decide(analysis, subject, image, self._policy, self._today())
        return InterimResult(image, platform, decision, metadata, analysis, None)

    def unreadable(
        self, image: str, subject: Subject, reason: str, platform: Platform = DEFAULT_PLATFORM
    ) -> InterimResult:
        decision = decide_unreadable(image, subject, reason, self._policy, self._today())
        return InterimResult(image, platform, decision, None, None, reason)


def make_engine(source: ImageSource, config: Config, today: Callable[[], datetime.date]) -> Engine:
    """The shared Evaluator over ``source`` when available, else the interim one."""
    evaluator: Any = getattr(evaluation, "Evaluator", None)
    if evaluator is not None and hasattr(config, "knowledge"):
        return evaluator(source, config.policy_value(), config.knowledge(), today=today)  # type: ignore[no-any-return]
    thresholds = config.policy.thresholds
    knowledge = Knowledge(
        thresholds=Thresholds.from_megabytes(thresholds.layer_megabytes, thresholds.image_megabytes)
    )
    return InterimEvaluator(source, config.policy_value(), knowledge, today)


class Composer:
    """One serving process's factory of :class:`Wiring` generations."""

    def __init__(
        self,
        metrics: WebhookMetrics,
        *,
        today: Callable[[], datetime.date] = datetime.date.today,
        secrets: Callable[[], SecretSource] = KubernetesSecrets,
    ) -> None:
        self.metrics = metrics
        self._today = today
        self._secrets_factory = secrets
        self._secrets: SecretSource | None = None
        self._client: RegistryClient | None = None
        self._client_key: tuple[RegistryOptions, str | None] | None = None

    def client(self, config: Config) -> RegistryClient:
        options = config.registry_options()
        key = (options, config.registry.docker_config)
        if self._client is None or key != self._client_key:
            static = (
                CredentialStore.from_file(config.registry.docker_config)
                if config.registry.docker_config
                else None
            )
            self._client = RegistryClient.from_options(
                options, credentials=static, observer=RegistryCounters(self.metrics)
            )
            self._client_key = key
        return self._client

    def build(self, config: Config) -> Wiring:
        settings = WebhookSettings.from_config(config)
        client = self.client(config)
        engine = make_engine(client, config, self._today)
        if not config.registry.pull_secrets:
            return Wiring(settings, engine)
        if self._secrets is None:
            self._secrets = self._secrets_factory()
        reader = PullSecrets(self._secrets, self.metrics, ttl=settings.pull_secret_ttl_seconds)

        def engine_for(template: PodTemplate, budget: float) -> Engine:
            store = reader.store_for(template, budget)
            if store is None:
                return engine
            return make_engine(client.with_credentials(store), config, self._today)

        return Wiring(settings, engine, engine_for)

    def close(self) -> None:
        """Close the registry client's connections (at worker exit, or in tests)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def build_from(self, path: Path) -> Wiring:
        return self.build(load_config(path))
