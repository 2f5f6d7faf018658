"""The chart against a real kube-apiserver: every ci/ values set is accepted,
and a Helm-generated certificate survives `helm upgrade`.

`helm template` has no cluster, so `lookup` finds nothing there and the
chart's certificate reuse can only be seen with a real API server: install,
upgrade, and compare the caBundle the API server holds. The server is the
e2e harness's (kine + kube-apiserver on loopback, no controllers), so pods
never run; what is tested is what the API server stores and validates.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client
from kubernetes.dynamic import DynamicClient

from tests.e2e.cluster import KubeCluster
from tests.e2e.helm import apply_dry_run, ensure_namespace

from .chart import CI_VALUES, Helm

pytestmark = pytest.mark.e2e

# Kinds whose CRDs belong to other projects (cert-manager, Prometheus
# Operator) and are not installed on the test API server.
FOREIGN_KINDS = {"Certificate", "Issuer", "ServiceMonitor"}


def helm_in(kube_cluster: KubeCluster, helm: Helm, *args: str) -> str:
    result = helm.run("--kubeconfig", str(kube_cluster.kubeconfig_path), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def read(cluster: KubeCluster, path: str) -> dict[str, Any]:
    """GET an object from the API server as JSON."""
    found: dict[str, Any] = json.loads(cluster.get(path))
    return found


def webhook_entry(cluster: KubeCluster, name: str) -> dict[str, Any]:
    vwc = read(
        cluster, f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{name}"
    )
    entry: dict[str, Any] = vwc["webhooks"][0]
    return entry


def secret_data(cluster: KubeCluster, namespace: str, name: str) -> dict[str, str]:
    data: dict[str, str] = read(cluster, f"/api/v1/namespaces/{namespace}/secrets/{name}")["data"]
    return data


def config_text(cluster: KubeCluster, namespace: str, name: str) -> str:
    configmap = read(cluster, f"/api/v1/namespaces/{namespace}/configmaps/{name}")
    text: str = configmap["data"]["config.yaml"]
    return text


def test_helm_certificate_is_kept_across_upgrades(kube_cluster: KubeCluster, helm: Helm) -> None:
    namespace, release = fresh("gate"), fresh("rel")
    fullname = f"{release}-slimgate"
    secret, configmap = f"{fullname}-webhook-tls", f"{fullname}-config"
    chart = ["-n", namespace, str(helm.chart)]

    helm_in(
        kube_cluster,
        helm,
        "install",
        release,
        *chart,
        "--create-namespace",
        "--set",
        "crds.install=false",
    )
    installed_bundle = webhook_entry(kube_cluster, fullname)["clientConfig"]["caBundle"]
    installed_secret = secret_data(kube_cluster, namespace, secret)
    assert installed_bundle == installed_secret["ca.crt"]
    assert "deadlineSeconds: 4.0" in config_text(kube_cluster, namespace, configmap)

    helm_in(
        kube_cluster,
        helm,
        "upgrade",
        release,
        *chart,
        "--reuse-values",
        "--set",
        "webhook.timeoutSeconds=7",
    )
    entry = webhook_entry(kube_cluster, fullname)
    assert entry["clientConfig"]["caBundle"] == installed_bundle
    assert secret_data(kube_cluster, namespace, secret) == installed_secret
    # The upgrade itself went through: the timeout and the webhook's deadline followed.
    assert entry["timeoutSeconds"] == 7
    assert "deadlineSeconds: 5.6" in config_text(kube_cluster, namespace, configmap)

    # Rotation, as documented in values.yaml: delete the Secret and upgrade.
    with kube_cluster.api_client() as api:
        k8s_client.CoreV1Api(api).delete_namespaced_secret(secret, namespace)
    helm_in(kube_cluster, helm, "upgrade", release, *chart, "--reuse-values")
    rotated = webhook_entry(kube_cluster, fullname)["clientConfig"]["caBundle"]
    assert rotated != installed_bundle
    assert secret_data(kube_cluster, namespace, secret)["ca.crt"] == rotated


def install_report_crds(kube_cluster: KubeCluster, helm: Helm) -> None:
    """Create the chart's CRDs for real, so custom resources could be dry-run."""
    rendering = helm.template(
        values={"operator.peering.enabled": True},
        extra=[
            "--show-only",
            "templates/crds/policyreports.yaml",
            "--show-only",
            "templates/crds/openreports.yaml",
            "--show-only",
            "templates/crds/kopfpeerings.yaml",
        ],
    )
    with kube_cluster.api_client() as api:
        dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]
        crds = dynamic.resources.get(
            api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
        )
        for crd in rendering.manifests:
            crds.server_side_apply(
                body=crd, field_manager="slimgate-chart-test", force_conflicts=True
            )


@pytest.mark.parametrize(
    "values_file", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults"
)
def test_every_values_set_is_accepted_by_the_api_server(
    kube_cluster: KubeCluster, helm: Helm, values_file: Path | None
) -> None:
    install_report_crds(kube_cluster, helm)
    namespace = fresh("ci")
    rendering = helm.template(
        namespace=namespace, values_files=[values_file] if values_file else []
    )
    manifests = [m for m in rendering.manifests if m["kind"] not in FOREIGN_KINDS]
    with kube_cluster.api_client() as api:
        ensure_namespace(api, namespace)
        stored = apply_dry_run(api, manifests, namespace=namespace)
    assert len(stored) == len(manifests)
    kinds = {m["kind"] for m in stored}
    assert {"ValidatingWebhookConfiguration", "Deployment", "ConfigMap", "Service"} <= kinds
