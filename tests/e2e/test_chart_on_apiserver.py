"""The chart against a real kube-apiserver: every ci/ values set is accepted,
the report CRDs store what the operator writes, and a Helm-generated
certificate survives `helm upgrade`.

`helm template` has no cluster, so `lookup` finds nothing there and the
chart's certificate reuse can only be seen with a real API server: install,
upgrade, and compare the caBundle the API server holds. The server is the
session's (kine + kube-apiserver on loopback, no controllers), so pods never
run; what is tested is what the API server stores and validates.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from slimgate.analysis.findings import Severity
from slimgate.audit.outcomes import Outcome, RuleResult
from slimgate.audit.workloads import WorkloadRef
from slimgate.reports.policyreport import Flavour, report_body
from tests.support.chart import CI_VALUES, Helm
from tests.support.names import fresh

from .cluster import KubeCluster
from .helm import apply_dry_run, ensure_namespace, install_report_crds, isolated

pytestmark = pytest.mark.e2e

# Kinds whose CRDs belong to other projects (cert-manager, Prometheus
# Operator) and are not installed on the test API server.
FOREIGN_KINDS = {"Certificate", "Issuer", "ServiceMonitor", "PrometheusRule"}
FIELD_MANAGER = "slimgate-chart-test"


def helm_in(kube_cluster: KubeCluster, helm: Helm, *args: str) -> str:
    result = helm.run("--kubeconfig", str(kube_cluster.kubeconfig_path), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


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
        "crds.policyReports.install=never",
        *isolated(release),
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


def sample_results(namespace: str) -> list[RuleResult]:
    workload = WorkloadRef(
        namespace=namespace, kind="Deployment", name="api", api_version="apps/v1"
    )
    return [
        RuleResult(
            resource=workload,
            container="api",
            image="golang:1.23",
            rule="toolchain-base",
            outcome=Outcome.FAIL,
            message="the final image is the Go toolchain; copy the binary into a slim base",
            severity=Severity.HIGH,
            properties={"image": "golang:1.23"},
        ),
        RuleResult(
            resource=workload,
            container="sidecar",
            image="gcr.io/distroless/static-debian12",
            rule="toolchain-base",
            outcome=Outcome.PASS,
            message="slim",
        ),
    ]


@pytest.mark.parametrize("flavour", list(Flavour), ids=lambda f: f.kind)
def test_the_operators_reports_fit_the_charts_crds(
    kube_cluster: KubeCluster, helm: Helm, flavour: Flavour
) -> None:
    """A report as the operator's writer builds it is stored as written."""
    install_report_crds(kube_cluster, helm)
    namespace = fresh("reports")
    body = report_body(namespace, sample_results(namespace), datetime.now(UTC), flavour)
    with kube_cluster.api_client() as api:
        ensure_namespace(api, namespace)
        dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]
        resource = dynamic.resources.get(api_version=flavour.value, kind=flavour.kind)
        resource.create(body=dict(body), namespace=namespace)
        stored = resource.get(name=body["metadata"]["name"], namespace=namespace).to_dict()
        # Nothing was pruned by the schema: every field the writer sets survives.
        assert stored["results"] == json.loads(json.dumps(body["results"]))
        assert stored["summary"] == body["summary"]

        broken = json.loads(json.dumps(body))
        broken["metadata"]["name"] = "broken"
        broken["results"][0]["result"] = "bogus"
        with pytest.raises(DynamicApiError) as refused:
            resource.create(body=broken, namespace=namespace)
        assert refused.value.status == 422


@pytest.mark.parametrize(
    "values_file", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults"
)
def test_every_values_set_is_accepted_by_the_api_server(
    kube_cluster: KubeCluster, helm: Helm, values_file: Path | None
) -> None:
    namespace = fresh("ci")
    rendering = helm.template(
        namespace=namespace, values_files=[values_file] if values_file else []
    )
    manifests = [m for m in rendering.manifests if m["kind"] not in FOREIGN_KINDS]
    with kube_cluster.api_client() as api:
        ensure_namespace(api, namespace)
        # CRDs included: the API server checks their schemas are structural.
        stored = apply_dry_run(api, manifests, namespace=namespace)
    assert len(stored) == len(manifests)
    kinds = {m["kind"] for m in stored}
    assert {"ValidatingWebhookConfiguration", "Deployment", "ConfigMap", "Service"} <= kinds
