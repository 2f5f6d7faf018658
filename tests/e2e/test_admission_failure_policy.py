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
from pathlib import Path
from typing import Any

import pytest
import trustme
from kubernetes import client as k8s_client

from tests.support.images import build_image, push
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer, free_port
from tests.support.served import ServedWebhook
from tests.support.volumes import project

from .admission_setup import (
    RUNTIME_SPEC,
    WEBHOOK_NAME,
    ApiHttp,
    apply_for_real,
    chart_values,
    eventually,
    one,
    pod,
    render,
    status_message,
)
from .cluster import K8sTools, KubeCluster
from .helm import Manifest, ensure_namespace

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

RELEASE = "down"
SELECTED = {"slimgate.io/e2e": "webhook-down"}


@dataclass
class Downed:
    """A webhook configuration whose webhook has been stopped."""

    cluster: KubeCluster
    tools: K8sTools
    http: ApiHttp
    values: dict[str, Any]
    namespace: str
    image: str
    vwc: Manifest

    def labelled_pod(self) -> dict[str, Any]:
        name = fresh("api")
        return pod(name, self.image, labels={**SELECTED, "app": name})

    def set_failure_policy(self, policy: str, workdir: Path) -> None:
        self.values["webhook"]["failurePolicy"] = policy
        rendered = render(self.cluster, self.tools, self.values, workdir, 2, release=RELEASE)
        self.vwc = one(rendered, "ValidatingWebhookConfiguration")
        apply_for_real(self.cluster.api_client(), [self.vwc])


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
    ca, cert, key = workdir / "ca.pem", workdir / "tls.crt", workdir / "tls.key"
    issued = test_ca.issue_cert("127.0.0.1")
    test_ca.cert_pem.write_to_path(str(ca))
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    port = free_port()
    values = chart_values(
        url=f"https://127.0.0.1:{port}/validate",
        ca_pem=test_ca.cert_pem.bytes(),
        failure_policy="Fail",
        registry={"insecure": [plain_registry.host]},
        object_selector={"matchLabels": SELECTED},
    )
    rendered = render(kube_cluster, k8s_tools, values, workdir, 1, release=RELEASE)
    config_dir = workdir / "etc-slimgate"
    project(config_dir, one(rendered, "ConfigMap", f"{RELEASE}-slimgate-config")["data"], 1)
    webhook = ServedWebhook(workdir, config_dir / "config.yaml", cert, key, ca, port=port)
    api_client = kube_cluster.api_client()
    http = ApiHttp(kube_cluster)
    downed = Downed(
        kube_cluster,
        k8s_tools,
        http,
        values,
        fresh("down"),
        f"{plain_registry.host}/team/api-runtime:down",
        one(rendered, "ValidatingWebhookConfiguration"),
    )
    admission = k8s_client.AdmissionregistrationV1Api(api_client)
    try:
        ensure_namespace(api_client, downed.namespace)
        apply_for_real(api_client, [downed.vwc])

        def called() -> bool:
            body = downed.labelled_pod()
            answer = http.create(downed.namespace, body, dry_run=True)
            names = {d.get("name") for d in webhook.decisions()}
            return answer.status_code == 201 and body["metadata"]["name"] in names

        eventually(called, "the API server to call the webhook")
        webhook.stop()
        yield downed
    finally:
        webhook.stop()
        admission.delete_validating_webhook_configuration(downed.vwc["metadata"]["name"])
        eventually(
            lambda: (
                http.create(downed.namespace, downed.labelled_pod(), dry_run=True).status_code
                == 201
            ),
            "the webhook configuration to be gone",
        )
        http.close()


def test_fail_rejects_the_pod_when_the_webhook_is_down(downed: Downed) -> None:
    refused = downed.http.create(downed.namespace, downed.labelled_pod())
    assert refused.status_code == 500, refused.text
    message = status_message(refused)
    assert f'failed calling webhook "{WEBHOOK_NAME}"' in message
    assert "connection refused" in message
    # Pods the webhook configuration does not select are unaffected.
    name = fresh("other")
    assert downed.http.create(downed.namespace, pod(name, downed.image)).status_code == 201


def test_ignore_admits_the_pod_when_the_webhook_is_down(
    downed: Downed, tmp_path_factory: pytest.TempPathFactory
) -> None:
    downed.set_failure_policy("Ignore", tmp_path_factory.mktemp("ignore"))
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
