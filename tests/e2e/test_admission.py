"""Admission through a real kube-apiserver: the chart's webhook configuration, registered for
real, makes the API server call a running ``slimgate serve`` about images in a real registry.

One webhook process serves the whole module; its configuration is the chart's rendered
ConfigMap, and switching to warn mode rewrites it as the kubelet would (the webhook reloads
it). The API server caches webhook configurations briefly, so every change is waited for by
polling a dry-run create until the expected decision shows, never by sleeping. There is no
kubelet: admitted pods are stored and stay Pending. Reporting of admitted pods by the audit
operator is covered by test_operator.py and test_audit.py.

Spec: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
(dry run, ``warnings`` as ``Warning: 299`` headers, namespaceSelector, failurePolicy).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from tests.support.fixtures import TOKEN_PASSWORD, TOKEN_USER
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer

from .admission_setup import (
    WEBHOOK_NAME,
    ChartWebhook,
    Images,
    cronjob,
    deployment,
    dockerconfigjson_secret,
    eventually,
    pod,
    pod_model,
    push_images,
    rejection,
    serve_from_chart,
    status_message,
    warnings,
)
from .cluster import K8sTools, KubeCluster
from .helm import ensure_namespace

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

DENIED = f'admission webhook "{WEBHOOK_NAME}" denied the request: slimgate: 1 container denied'


@dataclass
class Gate:
    """The cluster, the running webhook and what the chart registered."""

    served: ChartWebhook
    images: Images
    namespace: str  # checked by the webhook
    excluded: str  # in webhook.excludedNamespaces

    def __post_init__(self) -> None:
        served = self.served
        self.cluster, self.http, self.webhook = served.cluster, served.http, served.webhook
        self.core = k8s_client.CoreV1Api(self.cluster.api_client())

    def set_mode(self, mode: str) -> None:
        """Render the chart with ``policy.mode``, update the mounted config, wait for it."""
        self.served.values["config"]["policy"]["mode"] = mode
        self.served.rerender()
        expected = 201 if mode == "warn" else 403
        eventually(
            lambda: self.dry_run_status(self.images.toolchain) == expected,
            f"the webhook to reload in {mode} mode",
        )

    def dry_run_status(self, image: str) -> int:
        response = self.http.create(self.namespace, pod(fresh("probe"), image), dry_run=True)
        return response.status_code

    def decisions_in(
        self, namespace: str, name: str | None = None, count: int = 1
    ) -> list[dict[str, Any]]:
        """The decisions logged for ``namespace`` (and ``name``), once ``count`` of them are
        there: the webhook writes its log lines in batches, a few milliseconds later."""

        def logged() -> list[dict[str, Any]]:
            return [
                d
                for d in self.webhook.decisions()
                if d.get("namespace") == namespace and name in (None, d.get("name"))
            ]

        def enough() -> list[dict[str, Any]] | None:
            found = logged()
            return found if len(found) >= count else None

        return logged() if count == 0 else eventually(enough, f"{count} decisions logged")


@pytest.fixture(scope="module")
def gate(
    kube_cluster: KubeCluster,
    k8s_tools: K8sTools,
    plain_registry: RegistryServer,
    token_registry: RegistryServer,
    test_ca: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gate]:
    workdir = tmp_path_factory.mktemp("admission")
    images = push_images(plain_registry, token_registry, TOKEN_USER, TOKEN_PASSWORD)
    assert token_registry.token_server is not None
    assert token_registry.ca_path is not None
    excluded = fresh("legacy")
    served = serve_from_chart(
        kube_cluster,
        k8s_tools,
        test_ca,
        workdir,
        rbac=True,  # the chart's RBAC for the webhook when pullSecrets is on
        excluded=[excluded],
        registry={
            "insecure": [plain_registry.host],
            "allowPrivate": [token_registry.host, f"127.0.0.1:{token_registry.token_server.port}"],
            # the token service runs on another port: it may receive the registry's login
            "tokenRealms": {token_registry.host: [f"127.0.0.1:{token_registry.token_server.port}"]},
            "caBundle": str(token_registry.ca_path),
            "pullSecrets": True,
        },
    )
    gate = Gate(served, images, namespace=fresh("admit"), excluded=excluded)
    try:
        for namespace in (gate.namespace, gate.excluded):
            ensure_namespace(kube_cluster.api_client(), namespace)
        served.register()
        eventually(
            lambda: gate.dry_run_status(images.toolchain) == 403,
            "the API server to call the webhook",
        )
        yield gate
    finally:
        # while the webhook runs, wait until the API server stops calling it
        served.unregister(
            (lambda: gate.dry_run_status(images.toolchain) == 201) if gate.webhook.alive() else None
        )


def test_enforce_rejects_the_toolchain_pod_with_slimgates_message(gate: Gate) -> None:
    name = fresh("api")
    with pytest.raises(ApiException) as raised:
        gate.core.create_namespaced_pod(gate.namespace, pod_model(name, gate.images.toolchain))
    assert raised.value.status == 403
    message = rejection(raised.value)
    assert message.startswith(DENIED)
    assert f'spec.containers[0] ("app") image {gate.images.toolchain}, built on golang' in message
    assert "[toolchain-base]" in message
    assert "Fix: " in message  # the remediation
    with pytest.raises(ApiException) as missing:
        gate.core.read_namespaced_pod(name, gate.namespace)
    assert missing.value.status == 404


def test_enforce_admits_the_runtime_pod(gate: Gate) -> None:
    name = fresh("api")
    gate.core.create_namespaced_pod(gate.namespace, pod_model(name, gate.images.runtime))
    assert gate.http.pod_images(gate.namespace, name) == [gate.images.runtime]
    (decision,) = gate.decisions_in(gate.namespace, name)
    assert decision["decision"] == "allow"


def test_deployment_is_denied_at_apply_and_on_update(gate: Gate) -> None:
    name = fresh("web")
    denied = gate.http.apply(gate.namespace, deployment(name, gate.images.toolchain))
    assert denied.status_code == 403, denied.text
    message = status_message(denied)
    assert message.startswith(DENIED)
    assert f'spec.template.spec.containers[0] ("app") image {gate.images.toolchain}' in message

    created = gate.http.apply(gate.namespace, deployment(name, gate.images.runtime))
    assert created.status_code == 201, created.text
    updated = gate.http.apply(gate.namespace, deployment(name, gate.images.toolchain))
    assert updated.status_code == 403, updated.text
    assert "spec.template.spec.containers[0]" in status_message(updated)
    kept = gate.http.get(f"/apis/apps/v1/namespaces/{gate.namespace}/deployments/{name}").json()
    assert kept["spec"]["template"]["spec"]["containers"][0]["image"] == gate.images.runtime


def test_cronjob_is_denied_through_its_job_template(gate: Gate) -> None:
    denied = gate.http.create(gate.namespace, cronjob(fresh("nightly"), gate.images.toolchain))
    assert denied.status_code == 403, denied.text
    message = status_message(denied)
    assert message.startswith(DENIED)
    assert 'spec.jobTemplate.spec.template.spec.containers[0] ("job")' in message


def test_init_container_is_checked(gate: Gate) -> None:
    body = pod_model(fresh("api"), gate.images.runtime, init=gate.images.toolchain)
    with pytest.raises(ApiException) as raised:
        gate.core.create_namespaced_pod(gate.namespace, body)
    assert raised.value.status == 403
    message = rejection(raised.value)
    assert f'spec.initContainers[0] ("setup") image {gate.images.toolchain}' in message
    assert "spec.containers[0]" not in message


def test_ephemeral_container_is_checked_on_patch_and_put(gate: Gate) -> None:
    name = fresh("api")
    gate.core.create_namespaced_pod(gate.namespace, pod_model(name, gate.images.runtime))

    def debugger(image: str) -> dict[str, Any]:
        return {"name": "debugger", "image": image, "targetContainerName": "app"}

    patch = {"spec": {"ephemeralContainers": [debugger(gate.images.toolchain)]}}
    with pytest.raises(ApiException) as raised:
        gate.core.patch_namespaced_pod_ephemeralcontainers(name, gate.namespace, patch)
    assert raised.value.status == 403
    message = rejection(raised.value)
    assert f'spec.ephemeralContainers[0] ("debugger") image {gate.images.toolchain}' in message

    current = gate.core.read_namespaced_pod(name, gate.namespace)
    assert current.spec is not None
    current.spec.ephemeral_containers = [
        k8s_client.V1EphemeralContainer(
            name="debugger", image=gate.images.toolchain, target_container_name="app"
        )
    ]
    with pytest.raises(ApiException) as raised:
        gate.core.replace_namespaced_pod_ephemeralcontainers(name, gate.namespace, current)
    assert raised.value.status == 403
    assert "spec.ephemeralContainers[0]" in rejection(raised.value)

    patch = {"spec": {"ephemeralContainers": [debugger(gate.images.runtime)]}}
    gate.core.patch_namespaced_pod_ephemeralcontainers(name, gate.namespace, patch)
    stored = gate.http.pod_images(gate.namespace, name, "ephemeralContainers")
    assert stored == [gate.images.runtime]
    updates = gate.decisions_in(gate.namespace, name, count=4)
    assert [d["operation"] for d in updates] == ["CREATE", "UPDATE", "UPDATE", "UPDATE"]


def test_excluded_namespace_and_kube_system_are_never_sent_to_the_webhook(gate: Gate) -> None:
    before = gate.webhook.metric("slimgate_admission_requests_total")
    for namespace in (gate.excluded, "kube-system"):
        name = fresh("api")
        gate.core.create_namespaced_pod(namespace, pod_model(name, gate.images.toolchain))
        assert gate.http.pod_images(namespace, name) == [gate.images.toolchain]
        assert gate.decisions_in(namespace, count=0) == []
    assert gate.webhook.metric("slimgate_admission_requests_total") == before
    # The same pod in a checked namespace is sent, counted and logged.
    assert gate.dry_run_status(gate.images.toolchain) == 403
    assert gate.webhook.metric("slimgate_admission_requests_total") == before + 1
    assert gate.decisions_in(gate.namespace)


def test_dry_run_all_gets_the_same_decision(gate: Gate) -> None:
    body = pod(fresh("api"), gate.images.toolchain)
    real = gate.http.create(gate.namespace, body)
    dry = gate.http.create(gate.namespace, body, dry_run=True)
    assert (dry.status_code, status_message(dry)) == (real.status_code, status_message(real))
    assert dry.status_code == 403

    name = fresh("api")
    allowed = gate.http.create(gate.namespace, pod(name, gate.images.runtime), dry_run=True)
    assert allowed.status_code == 201, allowed.text
    assert gate.http.get(f"/api/v1/namespaces/{gate.namespace}/pods/{name}").status_code == 404
    (decision,) = gate.decisions_in(gate.namespace, name)
    assert decision["dryRun"] is True


@pytest.fixture
def warn_mode(gate: Gate) -> Iterator[None]:
    gate.set_mode("warn")
    try:
        yield
    finally:
        gate.set_mode("enforce")


@pytest.mark.usefixtures("warn_mode")
def test_warn_mode_admits_with_warning_headers(gate: Gate) -> None:
    name = fresh("api")
    created = gate.http.create(gate.namespace, pod(name, gate.images.toolchain))
    assert created.status_code == 201, created.text
    lines = warnings(created)
    assert lines
    assert all(line.startswith("spec.containers[0].image: ") for line in lines)
    assert any("golang" in line for line in lines), lines
    assert gate.http.get(f"/api/v1/namespaces/{gate.namespace}/pods/{name}").status_code == 200

    applied = gate.http.apply(gate.namespace, deployment(fresh("web"), gate.images.toolchain))
    assert applied.status_code == 201, applied.text
    assert warnings(applied)
    assert all(
        line.startswith("spec.template.spec.containers[0].image: ") for line in warnings(applied)
    )
    scheduled = gate.http.create(gate.namespace, cronjob(fresh("nightly"), gate.images.toolchain))
    assert scheduled.status_code == 201, scheduled.text
    assert warnings(scheduled)
    prefix = "spec.jobTemplate.spec.template.spec.containers[0].image: "
    assert all(line.startswith(prefix) for line in warnings(scheduled))


def test_private_image_without_a_pull_secret_is_a_registry_error(gate: Gate) -> None:
    namespace = fresh("nocreds")
    ensure_namespace(gate.cluster.api_client(), namespace)
    created = gate.http.create(namespace, pod(fresh("api"), gate.images.private))
    # onRegistryError: warn admits the pod and says it was not checked.
    assert created.status_code == 201, created.text
    (line,) = warnings(created)
    assert line.startswith(f"spec.containers[0].image: {gate.images.private} not checked: ")
    # The warning is cut at 120 characters; the decision log keeps the whole reason.
    (decision,) = gate.decisions_in(namespace)
    (image,) = decision["images"]
    assert "anonymous access was refused" in image["error"]


def test_private_image_with_a_pull_secret_gets_the_real_decision(gate: Gate) -> None:
    namespace = fresh("creds")
    api_client = gate.cluster.api_client()
    ensure_namespace(api_client, namespace)
    host = gate.images.private.split("/", 1)[0]
    secret = dockerconfigjson_secret("regcred", host, TOKEN_USER, TOKEN_PASSWORD)
    gate.core.create_namespaced_secret(namespace, secret)
    body = pod_model(fresh("api"), gate.images.private, pull_secrets=["regcred"])
    with pytest.raises(ApiException) as raised:
        gate.core.create_namespaced_pod(namespace, body)
    assert raised.value.status == 403
    message = rejection(raised.value)
    assert f'spec.containers[0] ("app") image {gate.images.private}, built on golang' in message
    assert "[toolchain-base]" in message

    # The tag was resolved with that namespace's secret; without one it still is not.
    other = fresh("nocreds")
    ensure_namespace(api_client, other)
    created = gate.http.create(other, pod(fresh("api"), gate.images.private))
    assert created.status_code == 201, created.text
    (line,) = warnings(created)
    assert line.startswith(f"spec.containers[0].image: {gate.images.private} not checked: ")
