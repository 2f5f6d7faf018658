"""Configuration generations share the registry client while its options stay the same,
and a replaced client is closed once the reviews that may still use it are done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from slimgate.config import parse_settings
from slimgate.evaluation import Evaluator
from slimgate.kube.workloads import read_template
from slimgate.registry.client import RegistryClient
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.credentials import CredentialStore
from slimgate.registry.options import RegistryOptions
from slimgate.webhook.generations import RETIRE_SECONDS, Composer
from slimgate.webhook.metrics import WebhookMetrics
from tests.support import admission
from tests.support.fakes import FakeSecrets, FakeSource

FIRST = 'registry:\n  insecure: ["localhost:5000"]\npolicy: {mode: enforce}\n'
POLICY_ONLY = 'registry:\n  insecure: ["localhost:5000"]\npolicy: {mode: audit}\n'
NEW_REGISTRY = 'registry:\n  insecure: ["localhost:5001"]\npolicy: {mode: audit}\n'


class Recorder:
    def __init__(self) -> None:
        self.scheduled: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, seconds: float, action: Callable[[], None]) -> None:
        self.scheduled.append((seconds, action))


def test_a_replaced_registry_client_is_closed_after_the_grace_period() -> None:
    recorder = Recorder()
    composer = Composer(WebhookMetrics(), schedule=recorder)
    try:
        composer.build(parse_settings(FIRST, "first.yaml"))
        assert composer.engines is not None
        first = composer.engines.client
        assert isinstance(first, RegistryClient)
        composer.build(parse_settings(POLICY_ONLY, "policy.yaml"))
        assert recorder.scheduled == []  # same registry options: same client, caches kept
        assert composer.engines.client is first
        composer.build(parse_settings(NEW_REGISTRY, "registry.yaml"))
        assert len(recorder.scheduled) == 1
        seconds, close = recorder.scheduled[0]
        assert seconds == RETIRE_SECONDS
        assert not first._http.is_closed  # still usable by reviews in flight
        close()
        assert first._http.is_closed
        current = composer.engines.client
        assert isinstance(current, RegistryClient)
        assert current is not first
        assert not current._http.is_closed
    finally:
        composer.close()


def test_generations_make_their_registry_client_with_the_factory_given() -> None:
    made: list[RegistryOptions] = []

    def factory(
        options: RegistryOptions,
        credentials: CredentialStore | None,
        observer: RegistryObserver | None,
    ) -> FakeSource:
        made.append(options)
        return FakeSource()

    metrics = WebhookMetrics()
    composer = Composer(metrics, registry=factory)
    try:
        composer.build(parse_settings(FIRST, "first.yaml"))
        composer.build(parse_settings(NEW_REGISTRY, "registry.yaml"))
        assert [sorted(options.insecure) for options in made] == [
            ["localhost:5000"],
            ["localhost:5001"],
        ]
        assert composer.engines is not None
        assert isinstance(composer.engines.client, FakeSource)
    finally:
        composer.close()


def test_engines_with_pull_secrets_share_the_analyses_of_the_shared_engine() -> None:
    """An analysis depends on the image's digests, not on whose login fetched them."""
    composer = Composer(WebhookMetrics(), secrets=FakeSecrets)
    try:
        config = parse_settings(FIRST.replace("registry:", "registry:\n  pullSecrets: true"), "c")
        wiring = composer.build(config)
        assert wiring.engine_for is not None
        obj = admission.workload("Deployment", ["registry.example/a:1"], namespace="shop")
        template = read_template(obj, "apps", "Deployment")
        assert template is not None
        with_secret = replace(template, pull_secrets=("pod-cred",))
        private = wiring.engine_for(with_secret, 1.0)
        assert private is not wiring.engine
        assert isinstance(private, Evaluator)
        assert isinstance(wiring.engine, Evaluator)
        assert private.analyses is wiring.engine.analyses
    finally:
        composer.close()


def test_webhook_settings_come_from_the_webhook_section_and_the_platforms() -> None:
    config = parse_settings(
        "registry:\n  platforms: [linux/arm64]\n"
        "webhook:\n  timeoutSeconds: 10\n  excludedNamespaces: [ops]\n  namespace: gate\n",
        "c.yaml",
    )
    settings = config.webhook
    assert (settings.timeout_seconds, settings.deadline) == (10.0, 8.0)
    assert settings.skips_namespace("ops")
    assert settings.skips_namespace("gate")
    assert not settings.skips_namespace("kube-system")  # replaced, not added to
    assert [str(p) for p in settings.platforms] == ["linux/arm64"]
