"""A pod whose image is on an ECR host, decided through the real kube-apiserver by what the
image is, read with the credential the real ECR kubelet plugin got: no pull secret anywhere.

The parts are real: ``ecr-credential-provider`` (k8s.io/cloud-provider-aws) asks moto's
server, the local AWS API, for ``GetAuthorizationToken``; Debian's ``docker-registry`` on
127.0.0.1, over TLS with a certificate for the ECR host name, accepts only that login;
``slimgate serve`` runs as a child process with the configuration and the
``CredentialProviderConfig`` the chart renders from its ``credentialProviders`` values (the
README's EKS example), the AWS variables passed to the plugin through ``inheritEnv`` as
IRSA's are. The one thing that is the tests' own is the name: the served process is started
by :mod:`tests.support.resolving_serve`, whose registry client resolves the ECR host on 443
to the local registry's port; the address policy still checks that address (the host is in
``registry.allowPrivate``), and TLS verifies the certificate for the ECR host.

Two releases of the chart run side by side, each with its own webhook process and an
``objectSelector`` on its own label, so nothing else in the session is affected: one with
the provider configuration, one without it, which must leave the same pod ``not checked``.
Spec: https://kubernetes.io/docs/tasks/administer-cluster/kubelet-credential-provider/
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
from kubernetes import client as k8s_client

from tests.support import aws, resolving_serve
from tests.support.aws import ECR_HOST, ECR_PASSWORD, ECR_USER, MotoServer
from tests.support.chart import Manifest
from tests.support.images import build_image, push
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer, free_port, start_registry
from tests.support.served import ServedWebhook, metric
from tests.support.tls import write_serving
from tests.support.volumes import project

from .admission_setup import (
    RUNTIME_SPEC,
    WEBHOOK_NAME,
    ApiHttp,
    apply_for_real,
    chart_values,
    eventually,
    pod,
    render,
    status_message,
    toolchain_spec,
    warnings,
)
from .cluster import K8sTools, KubeCluster
from .helm import ensure_namespace

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

LABEL = "slimgate.io/e2e"
WITH_PLUGIN, WITHOUT_PLUGIN = "ecr", "ecr-none"
TOOLCHAIN = f"{ECR_HOST}/team/api:1.4"
RUNTIME = f"{ECR_HOST}/team/api-runtime:1.4"
# Refused by the address policy before any request or credential lookup: a probe that
# shows the API server calls a webhook without running the plugin.
PROBE = "169.254.169.254/probe/app:1"
DENIED = f'admission webhook "{WEBHOOK_NAME}" denied the request: slimgate: 1 container denied'
PLUGIN = "ecr-credential-provider"

PROVIDERS = aws.ecr_providers()  # the nodes' file for EKS
# Where the chart mounts the ConfigMap; here it is projected into a local directory.
CHART_PROVIDER_CONFIG = "/etc/slimgate/credential-providers.yaml"


@dataclass
class Release:
    """One chart release: its webhook process and its webhook configuration."""

    name: str
    webhook: ServedWebhook
    vwc: Manifest

    def pod(self, image: str) -> dict[str, Any]:
        name = fresh("api")
        return pod(name, image, labels={LABEL: self.name, "app": name})

    def decision(self, namespace: str, name: str) -> dict[str, Any]:
        """The decision this webhook logged for the pod (its log is written in batches)."""

        def logged() -> dict[str, Any] | None:
            for decision in self.webhook.decisions():
                if (decision.get("namespace"), decision.get("name")) == (namespace, name):
                    return decision
            return None

        return eventually(logged, f"the decision about {namespace}/{name}")

    def metric(self, name: str, **labels: str) -> float:
        """The sum of metric ``name`` over the series that carry ``labels``."""
        return metric(self.webhook.get("/metrics").text, name, **labels)

    def plugin_runs(self, outcome: str | None = None) -> float:
        labels = {"program": PLUGIN, **({"outcome": outcome} if outcome else {})}
        return self.metric("slimgate_registry_credential_program_runs_total", **labels)


@dataclass
class Cloud:
    http: ApiHttp
    namespace: str
    with_plugin: Release
    without_plugin: Release


@pytest.fixture(scope="module")
def ecr_registry(
    tmp_path_factory: pytest.TempPathFactory, test_ca: trustme.CA
) -> Iterator[RegistryServer]:
    server = start_registry(
        tmp_path_factory.mktemp("ecr-registry"),
        htpasswd=(ECR_USER, ECR_PASSWORD),
        tls_ca=test_ca,
        tls_names=(ECR_HOST,),
    )
    try:
        for repository, spec in (
            ("team/api", toolchain_spec()),
            ("team/api-runtime", RUNTIME_SPEC),
        ):
            push(
                server.url,
                repository,
                "1.4",
                build_image(spec),
                username=ECR_USER,
                password=ECR_PASSWORD,
                verify=server.verify,
            )
        yield server
    finally:
        server.stop()


def _serve(
    release: str,
    cluster: KubeCluster,
    tools: K8sTools,
    registry: RegistryServer,
    test_ca: trustme.CA,
    workdir: Path,
    *,
    env: Mapping[str, str],
    providers: Mapping[str, Any] | None,
) -> Release:
    """Render ``release`` of the chart, serve its configuration through the resolving
    launcher, and return it once its webhook is ready (not yet registered)."""
    ca, cert, key = write_serving(test_ca, workdir)
    port = free_port()
    assert registry.ca_path is not None
    values = chart_values(
        url=f"https://127.0.0.1:{port}/validate",
        ca_pem=test_ca.cert_pem.bytes(),
        # the ECR host is served on loopback here: it may resolve there (over TLS)
        registry={"allowPrivate": [ECR_HOST], "caBundle": str(registry.ca_path)},
        object_selector={"matchLabels": {LABEL: release}},
    )
    if providers is not None:
        values["credentialProviders"] = {
            "config": dict(providers),
            "binDir": str(workdir / "bin"),
            "inheritEnv": sorted(env),
        }
    rendered = render(cluster, tools, values, workdir, 1, release=release)
    data = dict(rendered.one("ConfigMap", f"{release}-slimgate-config")["data"])
    config_dir = workdir / "etc-slimgate"
    if providers is not None:
        assert "credential-providers.yaml" in data
        data["config.yaml"] = data["config.yaml"].replace(
            CHART_PROVIDER_CONFIG, str(config_dir / "credential-providers.yaml")
        )
    project(config_dir, data, 1)
    routes = {(ECR_HOST, 443): ("127.0.0.1", registry.port)}
    webhook = ServedWebhook(
        workdir,
        config_dir / "config.yaml",
        cert,
        key,
        ca,
        port=port,
        launcher=resolving_serve.command(routes),
        env={**env, **resolving_serve.ENV},
    )
    return Release(release, webhook, rendered.one("ValidatingWebhookConfiguration"))


@pytest.fixture(scope="module")
def cloud(
    kube_cluster: KubeCluster,
    k8s_tools: K8sTools,
    ecr_registry: RegistryServer,
    moto: MotoServer,
    test_ca: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cloud]:
    programs = aws.ensure_ecr_programs()
    api_client = kube_cluster.api_client()
    http = ApiHttp(kube_cluster)
    namespace = fresh("ecr")
    ensure_namespace(api_client, namespace)
    admission = k8s_client.AdmissionregistrationV1Api(api_client)
    releases: list[Release] = []
    try:
        for name, providers in ((WITH_PLUGIN, PROVIDERS), (WITHOUT_PLUGIN, None)):
            workdir = tmp_path_factory.mktemp(name)
            aws.link_programs(programs, workdir / "bin")
            release = _serve(
                name,
                kube_cluster,
                k8s_tools,
                ecr_registry,
                test_ca,
                workdir,
                env=moto.environment(),
                providers=providers,
            )
            releases.append(release)
            apply_for_real(api_client, [release.vwc])

            def called(release: Release = release) -> bool:
                body = release.pod(PROBE)
                answer = http.create(namespace, body, dry_run=True)
                names = {d.get("name") for d in release.webhook.decisions()}
                return answer.status_code == 201 and body["metadata"]["name"] in names

            eventually(called, f"the API server to call the {name} webhook")
        yield Cloud(http, namespace, *releases)
    finally:
        for release in releases:
            admission.delete_validating_webhook_configuration(release.vwc["metadata"]["name"])
            if release.webhook.alive():  # wait until the API server stops calling it

                def gone(release: Release = release) -> bool:
                    probe = http.create(namespace, release.pod(PROBE), dry_run=True)
                    return not warnings(probe)

                eventually(gone, f"the {release.name} webhook configuration to be gone")
            release.webhook.stop()
        http.close()


def test_a_pod_on_an_ecr_host_is_decided_by_its_findings_through_the_real_ecr_plugin(
    cloud: Cloud,
) -> None:
    gate = cloud.with_plugin
    assert gate.plugin_runs() == 0  # the probes never reached the plugin

    body = gate.pod(RUNTIME)
    created = cloud.http.create(cloud.namespace, body)
    assert created.status_code == 201, created.text
    assert warnings(created) == []
    decision = gate.decision(cloud.namespace, body["metadata"]["name"])
    assert decision["decision"] == "allow"
    (image,) = decision["images"]
    assert image["image"] == RUNTIME
    assert not image.get("error")

    body = gate.pod(TOOLCHAIN)
    denied = cloud.http.create(cloud.namespace, body)
    assert denied.status_code == 403, denied.text
    message = status_message(denied)
    assert message.startswith(DENIED)
    assert f'spec.containers[0] ("app") image {TOOLCHAIN}, built on golang' in message
    assert "[toolchain-base]" in message
    stored = cloud.http.get(f"/api/v1/namespaces/{cloud.namespace}/pods/{body['metadata']['name']}")
    assert stored.status_code == 404
    (image,) = gate.decision(cloud.namespace, body["metadata"]["name"])["images"]
    assert image["decision"] == "deny"
    assert "toolchain-base" in image["rules"]
    assert not image.get("error")

    # One run of the plugin: its answer is cached for the whole registry (cacheKeyType
    # Registry), so the second repository used it without asking AWS again.
    assert gate.plugin_runs("ok") == 1
    assert gate.plugin_runs() == 1
    assert gate.metric("slimgate_registry_cache_hits_total", cache="credential-provider") >= 1
    # the plugin's answer carries the registry's password: never in the webhook's log
    assert ECR_PASSWORD not in gate.webhook.log_text()


def test_without_the_provider_config_the_same_pod_is_not_checked(cloud: Cloud) -> None:
    gate = cloud.without_plugin
    body = gate.pod(TOOLCHAIN)
    created = cloud.http.create(cloud.namespace, body)
    # onRegistryError: warn admits the pod and says why it was not checked
    assert created.status_code == 201, created.text
    (line,) = warnings(created)
    assert line.startswith(f"spec.containers[0].image: {TOOLCHAIN} not checked: ")
    (image,) = gate.decision(cloud.namespace, body["metadata"]["name"])["images"]
    assert image["error"].startswith(ECR_HOST)
    assert "(HTTP 401)" in image["error"]
    assert gate.plugin_runs() == 0
