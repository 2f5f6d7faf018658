"""What the admission end-to-end tests install: images, the chart's objects, API bodies.

Images are pushed to the real test registries: a single-stage Go build whose history is
the official golang image's (tests/fixtures/corpus/golang-1-bookworm.json) plus the app's
own ``go build``, and a clean alpine-like runtime image. The webhook's configuration,
its RBAC and the ValidatingWebhookConfiguration all come from ``helm template`` of
chart/slimgate (:func:`serve_from_chart`), with ``webhook.clientConfig.url`` pointing at
a local ``slimgate serve`` and the caBundle given as ``tls.secret.caBundle`` (``tls.mode:
secret``). Requests whose ``Warning`` headers matter go through :class:`ApiHttp` (httpx
with the admin client certificate), since the kubernetes client does not expose response
headers on success.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import trustme
import yaml
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from tests.support import corpus
from tests.support.chart import Helm, Manifest, Rendering
from tests.support.images import ImageSpec, Layer, build_image, push
from tests.support.registry_server import RegistryServer, free_port
from tests.support.served import ServedWebhook
from tests.support.tls import write_serving
from tests.support.volumes import project

from .cluster import SERVICE_ACCOUNT_ISSUER, K8sTools, KubeCluster
from .helm import ensure_namespace

RELEASE_NAMESPACE = "slimgate"
WEBHOOK_NAME = "images.slimgate.io"
FIELD_MANAGER = "slimgate-e2e-admission"
T = TypeVar("T")

GO_PATH = (
    "PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)
# The Go SDK layer ("COPY /target/ /") is the big one; real sizes are scaled down.
_GOLANG_LAYER_BYTES = (96_000, 48_000, 128_000, 184_000, 1_500_000, 256, 32)


def toolchain_spec() -> ImageSpec:
    """golang:1.23-bookworm's history as `docker history` shows it, then `go build`."""
    history: list[tuple[str, Layer]] = []
    sizes = iter(_GOLANG_LAYER_BYTES)
    for entry in corpus.raw("golang-1-bookworm")["config"]["history"]:
        created_by = str(entry["created_by"])
        if created_by.startswith("ENV GOLANG_VERSION="):
            created_by = "ENV GOLANG_VERSION=1.23.4"
        history.append((created_by, None if entry.get("empty_layer") else next(sizes)))
    history += [
        ("WORKDIR /src", None),
        ("COPY . . # buildkit", 8192),
        ("RUN /bin/sh -c go build -o /usr/local/bin/api ./cmd/api # buildkit", 64_000),
        ('CMD ["/usr/local/bin/api"]', None),
    ]
    return ImageSpec(
        history=tuple(history),
        env=("GOLANG_VERSION=1.23.4", "GOTOOLCHAIN=local", "GOPATH=/go", GO_PATH),
        cmd=("/usr/local/bin/api",),
    )


RUNTIME_SPEC = ImageSpec(
    history=(
        ("ADD alpine-minirootfs-3.24.2-x86_64.tar.gz / # buildkit", 40_000),
        ("COPY /out/api /usr/local/bin/api # buildkit", 64_000),
        ("USER 65532", None),
        ('CMD ["/usr/local/bin/api"]', None),
    ),
    env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
    cmd=("/usr/local/bin/api",),
    user="65532",
)


@dataclass(frozen=True)
class Images:
    toolchain: str  # toolchain-base (golang): denied in enforce mode
    runtime: str  # nothing to say
    private: str  # the toolchain image behind token auth


def push_images(plain: RegistryServer, token: RegistryServer, user: str, password: str) -> Images:
    toolchain, runtime = build_image(toolchain_spec()), build_image(RUNTIME_SPEC)
    push(plain.url, "team/api", "1.4", toolchain)
    push(plain.url, "team/api-runtime", "1.4", runtime)
    push(
        token.url,
        "team/private-api",
        "1.4",
        toolchain,
        username=user,
        password=password,
        verify=token.verify,
    )
    return Images(
        toolchain=f"{plain.host}/team/api:1.4",
        runtime=f"{plain.host}/team/api-runtime:1.4",
        private=f"{token.host}/team/private-api:1.4",
    )


def chart_values(
    *,
    url: str,
    ca_pem: bytes,
    mode: str = "enforce",
    failure_policy: str = "Fail",
    timeout_seconds: int = 10,
    excluded: Iterable[str] = (),
    registry: Mapping[str, Any] | None = None,
    object_selector: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Values for an out-of-cluster webhook at ``url`` whose certificate ``ca_pem`` signed."""
    values: dict[str, Any] = {
        "webhook": {
            "clientConfig": {"url": url},
            "failurePolicy": failure_policy,
            "timeoutSeconds": timeout_seconds,
            "excludedNamespaces": list(excluded),
        },
        "tls": {
            "mode": "secret",
            "secret": {
                "name": "slimgate-serving-cert",
                "caBundle": base64.b64encode(ca_pem).decode(),
            },
        },
        "config": {
            "registry": {"knownToolchainImages": [], **(registry or {})},
            "policy": {"mode": mode, "onRegistryError": "warn"},
        },
    }
    if object_selector is not None:
        values["webhook"]["objectSelector"] = dict(object_selector)
    return values


def write_values(path: Path, values: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(values), sort_keys=False))
    return path


def render(
    cluster: KubeCluster,
    tools: K8sTools,
    values: Mapping[str, Any],
    workdir: Path,
    generation: int,
    *,
    release: str = "slimgate",
) -> Rendering:
    """``helm template`` of the chart with ``values``, for the cluster's version."""
    values_file = write_values(workdir / f"values-{release}-{generation}.yaml", values)
    return Helm(tools.helm).template(
        release=release,
        namespace=RELEASE_NAMESPACE,
        values_files=[values_file],
        kube_version=json.loads(cluster.get("/version"))["gitVersion"],
    )


@dataclass
class ChartWebhook:
    """``slimgate serve`` on loopback, set up from the chart's rendering of ``values``: its
    configuration mounted as the kubelet would, and the ValidatingWebhookConfiguration that
    :meth:`register` stores for the API server to call it."""

    cluster: KubeCluster
    tools: K8sTools
    workdir: Path
    values: dict[str, Any]
    release: str
    rendered: Rendering
    webhook: ServedWebhook
    http: ApiHttp
    generation: int = 1

    @property
    def vwc(self) -> Manifest:
        return self.rendered.one("ValidatingWebhookConfiguration")

    def rerender(self) -> None:
        """Render the (changed) ``values`` again and mount the new configuration."""
        self.generation += 1
        self.rendered = render(
            self.cluster,
            self.tools,
            self.values,
            self.workdir,
            self.generation,
            release=self.release,
        )
        config = self.rendered.one("ConfigMap", f"{self.rendered.fullname}-config")["data"]
        project(self.webhook.config.parent, config, self.generation)

    def register(self) -> None:
        apply_for_real(self.cluster.api_client(), [self.vwc])

    def unregister(self, gone: Callable[[], bool] | None) -> None:
        """Delete the webhook configuration, wait until ``gone`` (the API server caches
        webhook configurations), then stop the webhook."""
        admission = k8s_client.AdmissionregistrationV1Api(self.cluster.api_client())
        admission.delete_validating_webhook_configuration(self.vwc["metadata"]["name"])
        if gone is not None:
            eventually(gone, "the webhook configuration to be gone")
        self.webhook.stop()
        self.http.close()


def serve_from_chart(
    cluster: KubeCluster,
    tools: K8sTools,
    test_ca: trustme.CA,
    workdir: Path,
    *,
    release: str = "slimgate",
    rbac: bool = False,
    **options: Any,
) -> ChartWebhook:
    """Start the webhook with a certificate from ``test_ca`` and the chart's configuration
    for :func:`chart_values` (``options``); with ``rbac``, the chart's RBAC for it is applied
    and it runs with a token of its ServiceAccount."""
    ca, cert, key = write_serving(test_ca, workdir)
    port = free_port()
    url, ca_pem = f"https://127.0.0.1:{port}/validate", test_ca.cert_pem.bytes()
    values = chart_values(url=url, ca_pem=ca_pem, **options)
    api_client = cluster.api_client()
    ensure_namespace(api_client, RELEASE_NAMESPACE)
    rendered = render(cluster, tools, values, workdir, 1, release=release)
    env = {}
    if rbac:
        account = f"{rendered.fullname}-webhook"
        kinds = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")
        apply_for_real(api_client, [rendered.one(kind, account) for kind in kinds])
        kubeconfig = workdir / "kubeconfig"
        service_account_kubeconfig(cluster, RELEASE_NAMESPACE, account, kubeconfig)
        env["KUBECONFIG"] = str(kubeconfig)
    config_dir = workdir / "etc-slimgate"
    project(config_dir, rendered.one("ConfigMap", f"{rendered.fullname}-config")["data"], 1)
    webhook = ServedWebhook(workdir, config_dir / "config.yaml", cert, key, ca, port=port, env=env)
    return ChartWebhook(
        cluster, tools, workdir, values, release, rendered, webhook, ApiHttp(cluster)
    )


def apply_for_real(api_client: k8s_client.ApiClient, manifests: Iterable[Manifest]) -> None:
    """Server-side apply each manifest (stored, not a dry run)."""
    dynamic = DynamicClient(api_client)  # type: ignore[no-untyped-call]
    for manifest in manifests:
        resource = dynamic.resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
        resource.server_side_apply(
            body=manifest,
            namespace=manifest["metadata"].get("namespace") if resource.namespaced else None,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )


def service_account_kubeconfig(
    cluster: KubeCluster, namespace: str, account: str, path: Path
) -> Path:
    """A kubeconfig with a token the API server issues for ``namespace/account``."""
    core = k8s_client.CoreV1Api(cluster.api_client())
    request = k8s_client.AuthenticationV1TokenRequest(
        spec=k8s_client.V1TokenRequestSpec(
            audiences=[SERVICE_ACCOUNT_ISSUER], expiration_seconds=3600
        )
    )
    issued = core.create_namespaced_service_account_token(account, namespace, request)
    assert issued.status is not None
    token = issued.status.token
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "e2e",
                "cluster": {"server": cluster.url, "certificate-authority": str(cluster.ca_path)},
            }
        ],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": account}}],
        "current-context": "e2e",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def pod(
    name: str,
    image: str,
    *,
    init: str | None = None,
    labels: Mapping[str, str] | None = None,
    pull_secrets: Iterable[str] = (),
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": image}]}
    if init is not None:
        spec["initContainers"] = [{"name": "setup", "image": init}]
    secrets = [{"name": secret} for secret in pull_secrets]
    if secrets:
        spec["imagePullSecrets"] = secrets
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": dict(labels or {"app": name})},
        "spec": spec,
    }


def pod_model(
    name: str, image: str, *, init: str | None = None, pull_secrets: Iterable[str] = ()
) -> k8s_client.V1Pod:
    """The same pod as :func:`pod`, as the kubernetes client's model."""
    return k8s_client.V1Pod(
        metadata=k8s_client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=k8s_client.V1PodSpec(
            containers=[k8s_client.V1Container(name="app", image=image)],
            init_containers=[k8s_client.V1Container(name="setup", image=init)] if init else None,
            image_pull_secrets=[k8s_client.V1LocalObjectReference(name=s) for s in pull_secrets]
            or None,
        ),
    )


def rejection(error: ApiException) -> str:
    """The ``message`` of the Status the API server answered with."""
    message: str = json.loads(error.body or "{}")["message"]
    return message


def deployment(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def cronjob(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "job", "image": image}],
                        }
                    }
                }
            },
        },
    }


def dockerconfigjson_secret(name: str, host: str, user: str, password: str) -> k8s_client.V1Secret:
    """An ``imagePullSecret`` of type ``kubernetes.io/dockerconfigjson`` for ``host``."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    document = json.dumps({"auths": {host: {"auth": auth}}}).encode()
    return k8s_client.V1Secret(
        metadata=k8s_client.V1ObjectMeta(name=name),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(document).decode()},
    )


class ApiHttp:
    """Raw HTTP to the API server as the admin, for status codes and ``Warning`` headers."""

    def __init__(self, cluster: KubeCluster) -> None:
        self._client = httpx.Client(
            base_url=cluster.url, verify=cluster.ssl_context(), timeout=30, trust_env=False
        )

    def close(self) -> None:
        self._client.close()

    def create(
        self, namespace: str, body: Mapping[str, Any], *, dry_run: bool = False
    ) -> httpx.Response:
        """POST ``body`` to its collection in ``namespace``."""
        params = {"dryRun": "All"} if dry_run else {}
        return self._client.post(collection(namespace, body), json=dict(body), params=params)

    def apply(self, namespace: str, body: Mapping[str, Any]) -> httpx.Response:
        """Server-side apply (``kubectl apply --server-side``) of ``body``."""
        path = f"{collection(namespace, body)}/{body['metadata']['name']}"
        return self._client.patch(
            path,
            content=json.dumps(dict(body)),
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
            headers={"Content-Type": "application/apply-patch+yaml"},
        )

    def get(self, path: str) -> httpx.Response:
        return self._client.get(path)

    def pod_images(self, namespace: str, name: str, field: str = "containers") -> list[str]:
        """The images of a stored pod's ``spec.<field>``; fails when it is not stored."""
        response = self.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
        assert response.status_code == 200, response.text
        return [str(c["image"]) for c in response.json()["spec"].get(field, [])]


def collection(namespace: str, body: Mapping[str, Any]) -> str:
    group_version = str(body["apiVersion"])
    plural = {"Pod": "pods", "Deployment": "deployments", "CronJob": "cronjobs"}[body["kind"]]
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    return f"{prefix}/namespaces/{namespace}/{plural}"


def warnings(response: httpx.Response) -> list[str]:
    """The texts of the response's ``Warning: 299 - "..."`` headers (RFC 7234 5.5)."""
    texts = []
    for header in response.headers.get_list("warning"):
        code, agent, quoted = header.split(" ", 2)
        assert (code, agent) == ("299", "-"), header
        assert quoted[:1] == quoted[-1:] == '"', header
        texts.append(quoted[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
    return texts


def status_message(response: httpx.Response) -> str:
    message: str = response.json()["message"]
    return message


def eventually(check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy (the API server caches webhooks)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.3)
