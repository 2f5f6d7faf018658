"""Pull secrets of the pod and its ServiceAccount become a credential store, cached briefly."""

from __future__ import annotations

import base64
import json

from slimgate.kube.workloads import read_template
from slimgate.webhook.metrics import WebhookMetrics
from slimgate.webhook.pullsecrets import DOCKERCONFIGJSON, PullSecrets, SecretUnreadable
from tests.support import admission


def dockerconfig(host: str, user: str, password: str) -> str:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    document = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    return base64.b64encode(document).decode()


class FakeSecrets:
    def __init__(self) -> None:
        self.secrets = {
            ("shop", "pod-cred"): (
                DOCKERCONFIGJSON,
                {".dockerconfigjson": dockerconfig("registry.example", "pod", "p1")},
            ),
            ("shop", "sa-cred"): (
                DOCKERCONFIGJSON,
                {".dockerconfigjson": dockerconfig("other.example:5000", "sa", "p2")},
            ),
            ("shop", "opaque"): ("Opaque", {"token": "c2VjcmV0"}),
        }
        self.accounts = {("shop", "builder"): ("sa-cred", "missing", "opaque")}
        self.reads = 0

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        self.reads += 1
        try:
            return self.secrets[(namespace, name)]
        except KeyError:
            raise SecretUnreadable(f"cannot read secret {namespace}/{name}: 404") from None

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        self.reads += 1
        return self.accounts.get((namespace, name), ())


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def template(**spec: object):  # type: ignore[no-untyped-def]
    obj = admission.workload("Deployment", ["registry.example/a:1"], namespace="shop", **spec)
    return read_template(obj, "apps", "Deployment")


def test_pod_and_service_account_secrets_are_layered() -> None:
    metrics = WebhookMetrics()
    reader = PullSecrets(FakeSecrets(), metrics)
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
    reader = PullSecrets(source, WebhookMetrics(), ttl=30, clock=clock)
    shape = template(pull_secrets=["pod-cred"], service_account="builder")
    reader.store_for(shape, 1.0)
    first = source.reads
    reader.store_for(shape, 1.0)
    assert source.reads == first
    clock.now = 31
    reader.store_for(shape, 1.0)
    assert source.reads == 2 * first


def test_no_secrets_no_store() -> None:
    reader = PullSecrets(FakeSecrets(), WebhookMetrics())
    assert reader.store_for(template(), 1.0) is None
