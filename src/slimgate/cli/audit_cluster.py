"""Read what runs in a cluster for ``slimgate audit``: pods and the owners above them.

Everything is listed once (pods, then each owner kind the chain can pass through), as raw
JSON pages of 500, so a large cluster costs a few dozen requests and no typed-model
deserialization. Owners are then looked up in memory; the audit reads nothing per pod.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from slimgate.errors import SlimgateError
from slimgate.reports.owners import READABLE_KINDS, OwnedObject
from slimgate.reports.pods import owned_object, pod_record
from slimgate.reports.workloads import OwnerReference, PodRecord

Json = dict[str, Any]


class ClusterError(SlimgateError):
    """The cluster could not be read (configuration, connection, permission)."""


def kube_configuration(
    kubeconfig: str | None, context: str | None
) -> tuple[k8s.Configuration, str]:
    """The client configuration and a name for the cluster (the kubeconfig context)."""
    configuration = k8s.Configuration()
    try:
        if "KUBERNETES_SERVICE_HOST" in os.environ and not kubeconfig and not context:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return configuration, "in-cluster"
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
        _, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (k8s_config.ConfigException, OSError) as exc:
        raise ClusterError(f"cannot load the Kubernetes configuration: {exc}") from exc
    return configuration, context or str((active or {}).get("name") or configuration.host)


class Lister:
    def __init__(self, api_client: k8s.ApiClient, timeout: float = 60.0) -> None:
        self._client = api_client
        self._timeout = timeout

    def _get(self, path: str, query: Mapping[str, str]) -> Json:
        params = self._client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query.items()),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        try:
            response = self._client.call_api(*params, _request_timeout=self._timeout)
            response.read()  # type: ignore[no-untyped-call]
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterError(f"GET {path}: {exc}") from exc
        if response.status != 200:
            text = (response.data or b"")[:300].decode("utf-8", "replace")
            raise ClusterError(f"GET {path}: {response.status} {text}")
        try:
            data = json.loads(response.data or b"{}")
        except ValueError as exc:  # a proxy's error page, a truncated body
            raise ClusterError(f"GET {path}: the answer is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ClusterError(f"GET {path}: expected a JSON object, got {type(data).__name__}")
        return data

    def list(self, api_version: str, plural: str, namespace: str | None) -> list[Json]:
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        path = f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"
        items: list[Json] = []
        query = {"limit": "500"}
        while True:
            page = self._get(path, query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = token


@dataclass
class ListedOwners:
    """An ``OwnerLookup`` over objects listed up front."""

    objects: dict[tuple[str, str, str], OwnedObject]

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        return self.objects.get((namespace, owner.kind, owner.name))


def read_cluster(lister: Lister, namespace: str | None) -> tuple[list[PodRecord], ListedOwners]:
    """Every pod (of ``namespace``, or of the cluster) and every owner kind we follow."""
    pods = [pod_record(item) for item in lister.list("v1", "pods", namespace)]
    objects: dict[tuple[str, str, str], OwnedObject] = {}
    for kind, readable in READABLE_KINDS.items():
        try:
            items = lister.list(readable.api_version, readable.plural, namespace)
        except ClusterError:
            continue  # no permission for one kind: pods are attributed to the owner they name
        for item in items:
            owned = owned_object(item, kind, readable.api_version)
            objects[(owned.ref.namespace, kind, owned.ref.name)] = owned
    return pods, ListedOwners(objects)
