"""A slow or broken Kubernetes API while reading pull secrets: the review is answered inside
its deadline with the static credentials only, so a private image gets the configured
``onRegistryError`` decision instead of being let in unchecked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from urllib3.exceptions import MaxRetryError

from slimgate.cluster.pullsecrets import PullSecrets
from slimgate.config import WebhookSettings
from slimgate.evaluation import ImageResult
from slimgate.kube.workloads import PodTemplate
from slimgate.model import DEFAULT_PLATFORM, Platform, Subject
from slimgate.policy.decision import Verdict
from slimgate.policy.model import Policy
from slimgate.webhook.app import create_app
from slimgate.webhook.metrics import WebhookMetrics
from tests.support import admission
from tests.support.fakes import FakeSecrets
from tests.unit.cluster.test_pullsecrets import Hanging, Raising
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import DEFAULT_RULES, FakeEngine

PRIVATE = "registry.example/private/api:1"
UNAUTHORIZED = "registry.example answered 401 Unauthorized"


class PrivateRegistry(FakeEngine):
    """Reads :data:`PRIVATE` only with credentials, like a registry behind token auth."""

    def __init__(self, *, policy: Policy, credentials: bool = False) -> None:
        super().__init__(policy=policy)
        self.credentials = credentials

    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> ImageResult:
        if image == PRIVATE and not self.credentials:
            return self.unreadable(image, subject, UNAUTHORIZED, platforms[0])
        return super().evaluate(image, subject, platforms)


def webhook(source: FakeSecrets, on_error: Verdict) -> Iterator[tuple[Flask, WebhookMetrics]]:
    metrics = WebhookMetrics()
    policy = Policy(rules=DEFAULT_RULES, on_registry_error=on_error)
    anonymous = PrivateRegistry(policy=policy)
    authenticated = PrivateRegistry(policy=policy, credentials=True)
    reads = ThreadPoolExecutor(max_workers=1)
    reader = PullSecrets(source, metrics.pull_secret_errors.inc, executor=reads)

    def engine_for(
        template: PodTemplate, budget: float
    ) -> FakeEngine:  # as Engines.for_access does
        return anonymous if reader.store_for(template.access, budget) is None else authenticated

    settings = WebhookSettings(timeout_seconds=2, deadline_seconds=0.3)
    app = create_app(settings, anonymous, engine_for=engine_for, metrics=metrics)
    yield app, metrics
    app.extensions["slimgate"]["pool"].shutdown(wait=True)
    reads.shutdown(wait=True)  # the caller has released any read that hangs


def review(app: Flask) -> dict:  # type: ignore[type-arg]
    pod = admission.pod([PRIVATE], namespace="shop", pull_secrets=["pod-cred"])
    return post(app.test_client(), admission.review(pod))


def test_with_readable_secrets_the_private_image_is_checked() -> None:
    for app, _ in webhook(FakeSecrets(), Verdict.DENY):
        response = review(app)
        assert response["allowed"] is True
        assert "warnings" not in response


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(lambda: Raising(MaxRetryError(None, "/api")), id="max-retry"),  # type: ignore[arg-type]
        pytest.param(lambda: Raising(RuntimeError("boom")), id="runtime-error"),
    ],
)
@pytest.mark.parametrize("on_error", [Verdict.DENY, Verdict.WARN])
def test_a_failing_api_leaves_the_private_image_to_on_registry_error(
    source: object, on_error: Verdict
) -> None:
    for app, metrics in webhook(source(), on_error):  # type: ignore[operator]
        response = review(app)
        assert metrics.registry.get_sample_value("slimgate_pull_secret_errors_total") == 1
        if on_error is Verdict.DENY:
            assert response["allowed"] is False
            assert f"image {PRIVATE}" in response["status"]["message"]
            assert UNAUTHORIZED in response["status"]["message"]
        else:
            assert response["allowed"] is True
            assert response["warnings"] == [
                f"spec.containers[0].image: {PRIVATE} not checked: {UNAUTHORIZED}"
            ]


def test_a_hanging_api_is_given_up_on_inside_the_deadline() -> None:
    source = Hanging()
    for app, metrics in webhook(source, Verdict.DENY):
        try:
            response = review(app)
            assert not source.release.is_set()  # answered while the read still hangs
            assert metrics.registry.get_sample_value("slimgate_pull_secret_errors_total") == 1
        finally:
            source.release.set()
        assert response["allowed"] is False
        assert UNAUTHORIZED in response["status"]["message"]  # looked up, not cut off
        deadline = "slimgate_admission_deadline_exceeded_total"
        assert metrics.registry.get_sample_value(deadline) == 0
