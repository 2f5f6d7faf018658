"""``registry.platforms: auto`` in the audit operator, as its own process on a real
kube-apiserver: each workload is judged for the platforms of the cluster's Node objects
that its nodeSelector allows, and a failing result names the platform it was judged for
(``properties.platform``).

The image is an index whose linux/amd64 variant is a clean runtime image and whose
linux/arm64 variant is a single-stage Go build (the webhook's test of the same setting is
test_node_platforms.py). The Node objects carry the labels a kubelet sets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client

from slimgate.cluster.api import KubeApi
from tests.integration.audit.scenario import create_namespace
from tests.support.chart import Helm
from tests.support.images import build_image, build_index, push
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer

from .admission_setup import RUNTIME_SPEC, eventually, toolchain_spec
from .cluster import KubeCluster
from .helm import install_report_crds
from .test_node_platforms import ARCH, amd_and_arm_nodes
from .test_operator import LEASE_NAMESPACE, PR, start_operator

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

PREFIX = "plat"  # the operator audits only this module's namespaces
CONFIG = """\
registry:
  insecure: ["{host}"]
  knownToolchainImages: []
  platforms: auto
operator:
  namespaces: ['{prefix}-*']
"""


@pytest.fixture
def nodes(kube_cluster: KubeCluster) -> Iterator[list[str]]:
    with amd_and_arm_nodes(k8s_client.CoreV1Api(kube_cluster.api_client())) as names:
        yield names


def test_the_operator_judges_each_workload_for_the_nodes_it_may_run_on(
    kube_cluster: KubeCluster,
    helm: Helm,
    plain_registry: RegistryServer,
    nodes: list[str],
    tmp_path: Path,
) -> None:
    amd64 = build_image(RUNTIME_SPEC)
    arm64 = build_image(replace(toolchain_spec(), architecture="arm64", variant="v8"))
    repository = f"{fresh(PREFIX)}/multi"
    push(plain_registry.url, repository, "1.0", build_index([amd64, arm64]))
    image = f"{plain_registry.host}/{repository}:1.0"

    api = KubeApi(kube_cluster.api_client())
    install_report_crds(kube_cluster, helm)
    create_namespace(api, LEASE_NAMESPACE)
    namespace = fresh(PREFIX)
    create_namespace(api, namespace)
    placements: dict[str, dict[str, Any]] = {
        "on-amd": {"nodeSelector": {ARCH: "amd64"}},
        "on-arm": {"nodeSelector": {ARCH: "arm64"}},
        "anywhere": {},
    }
    for name, placement in placements.items():
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": image}], **placement},
        }
        api.create("v1", "pods", namespace, body)

    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(host=plain_registry.host, prefix=PREFIX))
    identity = fresh("platforms")
    operator = start_operator(
        kube_cluster, config, tmp_path, identity, "--lease-name", f"slimgate-{identity}"
    )
    try:

        def every_pod_reported() -> dict[str, list[dict[str, Any]]] | None:
            report = api.get(*PR, namespace, "slimgate")
            if report is None:
                return None
            by_pod: dict[str, list[dict[str, Any]]] = {}
            for result in report.get("results") or []:
                for resource in result.get("resources") or []:
                    by_pod.setdefault(resource["name"], []).append(result)
            return by_pod if set(by_pod) >= set(placements) else None

        by_pod = eventually(every_pod_reported, what="a report on the three pods", timeout=90.0)
    except AssertionError:
        raise AssertionError(f"no report; the operator's log:\n{operator.log_text()}") from None
    finally:
        operator.stop()

    def failed(name: str) -> list[dict[str, Any]]:
        return [r for r in by_pod[name] if r["result"] == "fail"]

    assert failed("on-amd") == [], by_pod["on-amd"]
    for name in ("on-arm", "anywhere"):
        rules = {r["rule"] for r in failed(name)}
        assert "toolchain-base" in rules, by_pod[name]
        assert {r["properties"]["platform"] for r in failed(name)} == {"linux/arm64/v8"}
