"""What the API server does when slimgate's webhook is down: the chart's ``failurePolicy``.

A webhook process is started and registered from the chart (a release of its own, whose
``objectSelector`` only matches pods labelled for this module, so nothing else in the
session is affected); once the API server is seen calling it, it is stopped. With
``Fail`` the labelled pod is rejected with the API server's "failed calling webhook" error;
with ``Ignore`` it is created. ``Fail`` is checked first: the change to ``Ignore`` is then
the only thing that can make the next create succeed. Whether the audit operator later
reports such a pod is covered by test_operator.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

from tests.support.images import build_image, push
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer

from .admission_setup import (
    RUNTIME_SPEC,
    WEBHOOK_NAME,
    ApiHttp,
    ChartWebhook,
    eventually,
    pod,
    serve_from_chart,
    status_message,
)
from .cluster import K8sTools, KubeCluster
from .helm import ensure_namespace

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

RELEASE = "down"
SELECTED = {"slimgate.io/e2e": "webhook-down"}


@dataclass
class Downed:
    """A webhook configuration whose webhook has been stopped."""

    served: ChartWebhook
    namespace: str
    image: str

    @property
    def http(self) -> ApiHttp:
        return self.served.http

    def labelled_pod(self) -> dict[str, Any]:
        name = fresh("api")
        return pod(name, self.image, labels={**SELECTED, "app": name})

    def set_failure_policy(self, policy: str) -> None:
        self.served.values["webhook"]["failurePolicy"] = policy
        self.served.rerender()
        self.served.register()


@pytest.fixture(scope="module")
def downed(
    kube_cluster: KubeCluster,
    k8s_tools: K8sTools,
    plain_registry: RegistryServer,
    test_ca: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Downed]:
    workdir = tmp_path_factory.mktemp("webhook-down")
    push(plain_registry.url, "team/api-runtime", "down", build_image(RUNTIME_SPEC))
    served = serve_from_chart(
        kube_cluster,
        k8s_tools,
        test_ca,
        workdir,
        release=RELEASE,
        failure_policy="Fail",
        registry={"insecure": [plain_registry.host]},
        object_selector={"matchLabels": SELECTED},
    )
    downed = Downed(served, fresh("down"), f"{plain_registry.host}/team/api-runtime:down")
    webhook, http = served.webhook, served.http
    try:
        ensure_namespace(kube_cluster.api_client(), downed.namespace)
        served.register()

        def called() -> bool:
            body = downed.labelled_pod()
            answer = http.create(downed.namespace, body, dry_run=True)
            names = {d.get("name") for d in webhook.decisions()}
            return answer.status_code == 201 and body["metadata"]["name"] in names

        eventually(called, "the API server to call the webhook")
        webhook.stop()
        yield downed
    finally:
        served.unregister(
            lambda: (
                http.create(downed.namespace, downed.labelled_pod(), dry_run=True).status_code
                == 201
            )
        )


def test_fail_rejects_the_pod_when_the_webhook_is_down(downed: Downed) -> None:
    refused = downed.http.create(downed.namespace, downed.labelled_pod())
    assert refused.status_code == 500, refused.text
    message = status_message(refused)
    assert f'failed calling webhook "{WEBHOOK_NAME}"' in message
    assert "connection refused" in message
    # Pods the webhook configuration does not select are unaffected.
    name = fresh("other")
    assert downed.http.create(downed.namespace, pod(name, downed.image)).status_code == 201


def test_ignore_admits_the_pod_when_the_webhook_is_down(downed: Downed) -> None:
    downed.set_failure_policy("Ignore")
    body = downed.labelled_pod()
    eventually(
        lambda: downed.http.create(downed.namespace, body, dry_run=True).status_code == 201,
        "failurePolicy Ignore to take effect",
    )
    created = downed.http.create(downed.namespace, body)
    assert created.status_code == 201, created.text
    name = body["metadata"]["name"]
    stored = downed.http.get(f"/api/v1/namespaces/{downed.namespace}/pods/{name}")
    assert stored.status_code == 200
