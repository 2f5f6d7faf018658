"""``registry.platforms: auto`` on a real kube-apiserver: the webhook, running with the
chart's RBAC for it (get/list/watch nodes, nothing else), evaluates a pod's image for the
platforms of the cluster's Node objects that its nodeSelector or required node affinity
allow.

The image is an index whose linux/amd64 variant is a clean runtime image and whose
linux/arm64 variant is a single-stage Go build. There is no kubelet: the Node objects are
created through the API with the labels a kubelet sets (``kubernetes.io/os``,
``kubernetes.io/arch``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import trustme
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from tests.support.images import build_image, build_index, push
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer

from .admission_setup import (
    RUNTIME_SPEC,
    ApiHttp,
    eventually,
    pod,
    serve_from_chart,
    status_message,
    toolchain_spec,
)
from .cluster import K8sTools, KubeCluster
from .helm import ensure_namespace

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

ARCH = "kubernetes.io/arch"


def node(name: str, arch: str) -> k8s_client.V1Node:
    labels = {"kubernetes.io/os": "linux", ARCH: arch, "kubernetes.io/hostname": name}
    return k8s_client.V1Node(metadata=k8s_client.V1ObjectMeta(name=name, labels=labels))


@contextlib.contextmanager
def amd_and_arm_nodes(core: k8s_client.CoreV1Api) -> Iterator[list[str]]:
    """A linux/amd64 and a linux/arm64 Node (no kubelet behind them), deleted on the way out;
    their names."""
    names = [fresh("amd"), fresh("arm")]
    try:
        for name, arch in zip(names, ("amd64", "arm64"), strict=True):
            core.create_node(node(name, arch))
        yield names
    finally:
        for name in names:
            try:
                core.delete_node(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise


@dataclass
class Mixed:
    http: ApiHttp
    core: k8s_client.CoreV1Api
    namespace: str
    image: str  # amd64: runtime image; arm64: toolchain image
    arm_node: str

    def create(self, spec: dict[str, Any]) -> tuple[int, str]:
        body = pod(fresh("p"), self.image)
        body["spec"].update(spec)
        response = self.http.create(self.namespace, body, dry_run=True)
        text = status_message(response) if response.status_code != 201 else ""
        return response.status_code, text


@pytest.fixture(scope="module")
def mixed(
    kube_cluster: KubeCluster,
    k8s_tools: K8sTools,
    plain_registry: RegistryServer,
    test_ca: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Mixed]:
    workdir = tmp_path_factory.mktemp("platforms")
    amd64 = build_image(RUNTIME_SPEC)
    arm64 = build_image(replace(toolchain_spec(), architecture="arm64", variant="v8"))
    push(plain_registry.url, "team/multi", "1.0", build_index([amd64, arm64]))
    image = f"{plain_registry.host}/team/multi:1.0"

    core = k8s_client.CoreV1Api(kube_cluster.api_client())
    with amd_and_arm_nodes(core) as nodes:
        served = serve_from_chart(
            kube_cluster,
            k8s_tools,
            test_ca,
            workdir,
            rbac=True,  # get/list/watch nodes
            registry={"insecure": [plain_registry.host], "platforms": "auto"},
        )
        gate = Mixed(served.http, core, fresh("mixed"), image, nodes[1])
        try:
            ensure_namespace(kube_cluster.api_client(), gate.namespace)
            served.register()
            # Until the webhook has listed the nodes it evaluates linux/amd64 (allowed).
            eventually(lambda: gate.create({})[0] == 403, "the webhook to see the arm64 node")
            yield gate
        finally:
            alive = served.webhook.alive()
            served.unregister((lambda: gate.create({})[0] == 201) if alive else None)


def test_a_pod_pinned_to_amd64_is_judged_by_the_amd64_variant(mixed: Mixed) -> None:
    status, message = mixed.create({"nodeSelector": {ARCH: "amd64"}})
    assert status == 201, message


def test_a_pod_pinned_to_arm64_is_denied_naming_the_arm64_platform(mixed: Mixed) -> None:
    status, message = mixed.create({"nodeSelector": {ARCH: "arm64"}})
    assert status == 403
    assert f"image {mixed.image} for linux/arm64/v8, built on golang" in message
    assert "[toolchain-base]" in message


def test_a_pod_that_may_run_on_either_node_is_denied_by_the_worst_variant(mixed: Mixed) -> None:
    status, message = mixed.create({})
    assert status == 403
    assert "for linux/arm64/v8" in message


def test_required_node_affinity_narrows_like_a_node_selector(mixed: Mixed) -> None:
    def affinity(operator: str) -> dict[str, Any]:
        term = {"matchExpressions": [{"key": ARCH, "operator": operator, "values": ["arm64"]}]}
        required = {"nodeSelectorTerms": [term]}
        return {
            "affinity": {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}
            }
        }

    assert mixed.create(affinity("NotIn"))[0] == 201
    assert mixed.create(affinity("In"))[0] == 403


def test_the_webhook_follows_nodes_leaving_and_joining(mixed: Mixed) -> None:
    """Seen through the watch: with the arm64 node gone, an unpinned pod runs on amd64."""
    mixed.core.delete_node(mixed.arm_node)
    try:
        eventually(lambda: mixed.create({})[0] == 201, "the webhook to see the node leave")
    finally:
        mixed.core.create_node(node(mixed.arm_node, "arm64"))
    eventually(lambda: mixed.create({})[0] == 403, "the webhook to see the node join")
