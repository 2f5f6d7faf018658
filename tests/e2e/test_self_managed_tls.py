"""tls.mode=selfManaged on a real kube-apiserver, installed with real helm.

The chart renders an empty Secret and a ValidatingWebhookConfiguration without a caBundle;
``slimgate serve --tls-secret`` (run here on 127.0.0.1, as the chart's pod would run it,
with ``webhook.clientConfig.url`` pointing at it) fills the Secret and sets the caBundle.
The API server then calls the webhook over TLS it verifies with that bundle, and a
``helm upgrade`` leaves both what the webhook wrote.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slimgate.cluster.api import KubeApi
from tests.support import processes
from tests.support.registry_server import free_port

from .admission_setup import ApiHttp, eventually, pod, status_message
from .cluster import K8sTools, KubeCluster
from .helm import run_helm as helm

pytestmark = [pytest.mark.e2e]

CHART = Path(__file__).resolve().parents[2] / "chart" / "slimgate"
RELEASE, NAMESPACE = "gate", "gate-system"
FULLNAME = f"{RELEASE}-slimgate"
SECRET = f"{FULLNAME}-webhook-tls"


@pytest.fixture
def cluster(k8s_tools: K8sTools) -> Iterator[KubeCluster]:
    """A cluster of its own: the webhook it registers sees every namespace."""
    with KubeCluster(k8s_tools) as fresh:
        yield fresh


def bundle(api: KubeApi) -> str:
    vwc = api.get(
        "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", "", FULLNAME
    )
    assert vwc is not None
    return str(vwc["webhooks"][0]["clientConfig"].get("caBundle", ""))


def secret_data(api: KubeApi) -> dict[str, Any]:
    secret = api.get("v1", "secrets", NAMESPACE, SECRET)
    assert secret is not None
    return dict(secret.get("data") or {})


def test_the_webhook_keeps_its_own_certificate_and_ca_bundle(
    cluster: KubeCluster, k8s_tools: K8sTools, tmp_path: Path
) -> None:
    port = free_port()
    chart = [RELEASE, str(CHART), "-n", NAMESPACE]
    helm(
        cluster,
        k8s_tools,
        "install",
        *chart,
        "--create-namespace",
        "--set",
        "tls.mode=selfManaged",
        "--set",
        f"webhook.clientConfig.url=https://127.0.0.1:{port}/validate",
        "--set",
        "operator.enabled=false",
    )
    api = KubeApi(cluster.api_client())
    assert secret_data(api) == {}
    assert bundle(api) == ""

    config = tmp_path / "config.yaml"
    config.write_text("policy:\n  mode: enforce\n  onRegistryError: deny\n")
    log = tmp_path / "serve.log"
    command = [
        *(sys.executable, "-m", "slimgate.main", "serve", "--config", str(config)),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--tls-secret", f"{NAMESPACE}/{SECRET}", "--webhook-configuration", FULLNAME),
        *("--tls-dns-name", "127.0.0.1", "--tls-dir", str(tmp_path / "tls")),
        *("--tls-check-seconds", "1", "--kubeconfig", str(cluster.kubeconfig_path)),
    ]
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "SLIMGATE_WEBHOOK_WORKERS": "1"},
        )
    http = ApiHttp(cluster)
    try:
        set_bundle = eventually(lambda: bundle(api), what="the caBundle", timeout=60.0)
        data = secret_data(api)
        assert set(data) == {"ca.crt", "ca.key", "tls.crt", "tls.key"}
        assert set_bundle == data["ca.crt"]
        assert (tmp_path / "tls" / "tls.crt").read_bytes() == base64.b64decode(data["tls.crt"])

        # The API server calls the webhook over TLS it verifies with that bundle.
        namespace = "apps"
        api.create(
            "v1",
            "namespaces",
            "",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        )
        unreachable = f"127.0.0.1:{free_port()}/team/api:1"

        def refused() -> str | None:
            response = http.create(namespace, pod("web", unreachable), dry_run=True)
            return status_message(response) if response.status_code >= 400 else None

        message = eventually(refused, what="the webhook to answer", timeout=60.0)
        assert 'admission webhook "images.slimgate.io" denied the request' in message

        # A helm upgrade (what a GitOps sync does) keeps the Secret and the caBundle.
        helm(cluster, k8s_tools, "upgrade", *chart, "--reuse-values")
        assert secret_data(api) == data
        assert bundle(api) == set_bundle

        # A configuration re-applied without the caBundle gets it back.
        vwc = api.get(
            "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", "", FULLNAME
        )
        assert vwc is not None
        vwc["webhooks"][0]["clientConfig"].pop("caBundle")
        api.replace(
            "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", "", FULLNAME, vwc
        )
        assert eventually(
            lambda: bundle(api) == set_bundle, what="the caBundle again", timeout=30.0
        )
    finally:
        http.close()
        processes.stop(process, grace=20)
        print(log.read_text(errors="replace")[-4000:])
