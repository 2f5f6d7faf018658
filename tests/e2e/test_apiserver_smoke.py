"""Proves the e2e harness: a real API server that stores and validates objects.

If these fail, every other e2e failure is about the harness, not slimgate.
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s_client

from tests.support.names import fresh

from .cluster import KubeCluster
from .helm import apply_dry_run, ensure_namespace

pytestmark = pytest.mark.e2e

KUBE_VERSION = "v1.34.4"


def test_version_is_the_pinned_release(kube_cluster: KubeCluster) -> None:
    version = json.loads(kube_cluster.get("/version"))
    assert version["gitVersion"] == KUBE_VERSION
    assert (version["major"], version["minor"]) == ("1", KUBE_VERSION.split(".")[1])


def test_namespace_and_pod_are_stored(kube_cluster: KubeCluster) -> None:
    namespace = fresh("smoke")
    with kube_cluster.api_client() as api:
        core = k8s_client.CoreV1Api(api)
        core.create_namespace(
            k8s_client.V1Namespace(metadata=k8s_client.V1ObjectMeta(name=namespace))
        )
        pod = k8s_client.V1Pod(
            metadata=k8s_client.V1ObjectMeta(name="smoke"),
            spec=k8s_client.V1PodSpec(
                containers=[k8s_client.V1Container(name="main", image="registry.invalid/x:1")]
            ),
        )
        core.create_namespaced_pod(namespace, pod)
        stored = core.read_namespaced_pod("smoke", namespace)
    assert stored.metadata is not None
    assert stored.status is not None
    assert stored.spec is not None
    assert stored.metadata.uid
    # Nothing schedules or runs pods here, so it stays Pending.
    assert stored.status.phase == "Pending"
    assert stored.spec.containers[0].image == "registry.invalid/x:1"


def test_server_side_dry_run_validates_without_storing(kube_cluster: KubeCluster) -> None:
    namespace = fresh("smoke")
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dry"},
        "data": {"key": "value"},
    }
    with kube_cluster.api_client() as api:
        ensure_namespace(api, namespace)
        [result] = apply_dry_run(api, [config_map], namespace=namespace)
        assert result["metadata"]["namespace"] == namespace
        assert result["data"] == {"key": "value"}
        stored = k8s_client.CoreV1Api(api).list_namespaced_config_map(namespace)
    assert stored.items == []
