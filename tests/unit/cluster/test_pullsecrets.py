"""Pull secrets of the pod and its ServiceAccount become a credential store, cached briefly;
reading them takes at most the review's budget and never fails the review."""

from __future__ import annotations

import threading

import pytest
from urllib3.exceptions import MaxRetryError

from slimgate.cluster.pullsecrets import PullSecrets
from slimgate.errors import SecretsUnavailable
from slimgate.kube.workloads import PullAccess, read_template
from slimgate.webhook.metrics import WebhookMetrics
from tests.support import admission
from tests.support.fakes import FakeSecrets


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def template(**spec: object) -> PullAccess:
    """The pull access of a Deployment in ``shop``, read as the webhook reads it."""
    obj = admission.workload("Deployment", ["registry.example/a:1"], namespace="shop", **spec)
    found = read_template(obj, "apps", "Deployment")
    assert found is not None
    return found.access


def test_pod_and_service_account_secrets_are_layered() -> None:
    metrics = WebhookMetrics()
    reader = PullSecrets(FakeSecrets(), metrics.pull_secret_errors.inc)
    store = reader.store_for(template(pull_secrets=["pod-cred"], service_account="builder"), 1.0)
    assert store is not None
    pod = store.lookup("registry.example")
    account = store.lookup("other.example:5000")
    assert pod is not None
    assert (pod.username, pod.password) == ("pod", "p1")
    assert account is not None
    assert account.username == "sa"
    assert store.lookup("other.example") is None  # exact host only
    errors = metrics.registry.get_sample_value("slimgate_pull_secret_errors_total")
    assert errors == 2  # the missing and the opaque secret


def test_reads_are_cached_for_the_ttl() -> None:
    source, clock = FakeSecrets(), Clock()
    reader = PullSecrets(source, ttl=30, clock=clock)
    shape = template(pull_secrets=["pod-cred"], service_account="builder")
    reader.store_for(shape, 1.0)
    first = source.reads
    reader.store_for(shape, 1.0)
    assert source.reads == first
    clock.now = 31
    reader.store_for(shape, 1.0)
    assert source.reads == 2 * first


def test_no_secrets_no_store() -> None:
    reader = PullSecrets(FakeSecrets())
    assert reader.store_for(template(), 1.0) is None


class Hanging(FakeSecrets):
    """The API that never answers: every read blocks (ignoring its timeout) until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        self.started.set()
        self.release.wait(30)
        return ()


class Raising(FakeSecrets):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        self.reads += 1
        raise self.error


def errors(metrics: WebhookMetrics) -> float | None:
    return metrics.registry.get_sample_value("slimgate_pull_secret_errors_total")


def test_a_read_past_the_budget_is_abandoned_and_counted() -> None:
    source, metrics = Hanging(), WebhookMetrics()
    reader = PullSecrets(source, metrics.pull_secret_errors.inc)
    try:
        assert reader.store_for(template(pull_secrets=["pod-cred"]), 0.05) is None
        assert source.started.is_set()
        assert not source.release.is_set()  # answered while the read still hangs
        assert errors(metrics) == 1
    finally:
        source.release.set()
        reader.close()


@pytest.mark.parametrize(
    "error",
    [
        MaxRetryError(None, "/api/v1/namespaces/shop/serviceaccounts/default"),  # type: ignore[arg-type]
        RuntimeError("token=hunter2"),
    ],
)
def test_any_error_of_the_source_is_counted_and_logged_without_its_message(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    source, metrics = Raising(error), WebhookMetrics()
    reader = PullSecrets(source, metrics.pull_secret_errors.inc)
    try:
        assert reader.store_for(template(pull_secrets=["pod-cred"]), 1.0) is None
    finally:
        reader.close()
    assert errors(metrics) == 1
    assert source.reads == 1  # the API failed: the pod's secret is not tried as well
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "hunter2" not in logged
    assert f"unexpected {error.__class__.__name__}" in logged


def test_an_unreachable_api_is_not_remembered() -> None:
    source, metrics = (
        Raising(SecretsUnavailable("cannot read service account: timed out")),
        (WebhookMetrics()),
    )
    reader = PullSecrets(source, metrics.pull_secret_errors.inc)
    try:
        reader.store_for(template(), 1.0)
        reader.store_for(template(), 1.0)
    finally:
        reader.close()
    assert source.reads == 2
    assert errors(metrics) == 2


class Slow(FakeSecrets):
    """Each read takes 0.4 s of the test clock and records the timeout it was given."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.timeouts: list[tuple[str, float]] = []
        self.accounts = {("shop", "builder"): ("sa-cred",)}

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        self.timeouts.append((name, timeout))
        self.clock.now += 0.4
        return super().secret(namespace, name, timeout)

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        self.timeouts.append((name, timeout))
        self.clock.now += 0.4
        return super().service_account_pull_secrets(namespace, name, timeout)


def test_the_reads_of_one_review_share_one_budget() -> None:
    clock, metrics = Clock(), WebhookMetrics()
    source = Slow(clock)
    reader = PullSecrets(source, metrics.pull_secret_errors.inc, clock=clock)
    try:
        store = reader.store_for(
            template(pull_secrets=["pod-cred", "opaque"], service_account="builder"), 1.0
        )
    finally:
        reader.close()
    names = [name for name, _ in source.timeouts]
    assert names == ["builder", "pod-cred", "opaque"]  # sa-cred: the budget was spent
    assert [t for _, t in source.timeouts] == pytest.approx([1.0, 0.6, 0.2])
    assert store is not None
    assert store.lookup("registry.example") is not None  # what was read is used
    assert errors(metrics) == 2  # the opaque secret, and sa-cred not read
