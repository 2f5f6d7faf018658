"""Raw JSON reads and writes against the Kubernetes API, through the ``kubernetes`` client.

The operator and ``slimgate audit`` need a handful of verbs on a handful of resources (pods,
owners, reports, events, leases); going through the client's typed models would
deserialize every pod template for nothing. Paths follow the API conventions:
``/api/v1/...`` for the core group, ``/apis/{group}/{version}/...`` for the others.
Failures become :class:`KubeError` with the HTTP status, so callers can tell 404 and 409
from the rest; an answer that is not a JSON object (a proxy's error page, a truncated body)
is a :class:`KubeError` too. :func:`kube_configuration` loads the client configuration
both drivers start from.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from slimgate.errors import KubeError

Json = dict[str, Any]


class Api(Protocol):
    """The verbs the operator uses; :class:`KubeApi` is the real one, tests pass a fake."""

    def get(self, api_version: str, plural: str, namespace: str, name: str) -> Json | None: ...

    def list(
        self, api_version: str, plural: str, namespace: str | None = None, selector: str = ""
    ) -> list[Json]: ...

    def create(
        self, api_version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> Json: ...

    def replace(
        self, api_version: str, plural: str, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Json: ...

    def delete(self, api_version: str, plural: str, namespace: str, name: str) -> None: ...


def kube_configuration(
    kubeconfig: str | None, context: str | None
) -> tuple[k8s.Configuration, str]:
    """The client configuration (in-cluster, unless a kubeconfig or context is named) and a
    name for the cluster (the kubeconfig context)."""
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
        raise KubeError(f"cannot load the Kubernetes configuration: {exc}") from exc
    return configuration, context or str((active or {}).get("name") or configuration.host)


def own_configuration(
    configuration: k8s.Configuration | None, kubeconfig: str | None = None
) -> k8s.Configuration:
    """A client configuration to change freely: a copy of the caller's ``configuration``,
    else the one :func:`kube_configuration` loads (in-cluster unless ``kubeconfig``)."""
    if configuration is None:
        return kube_configuration(kubeconfig, None)[0]
    return copy.deepcopy(configuration)


def path(api_version: str, plural: str, namespace: str | None, name: str | None = None) -> str:
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    scoped = f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"
    return f"{scoped}/{name}" if name else scoped


class KubeApi:
    """:class:`Api` over a configured ``kubernetes.client.ApiClient``."""

    def __init__(self, api_client: k8s.ApiClient, timeout: float = 20.0) -> None:
        self._client = api_client
        self._timeout = timeout

    def request(
        self,
        method: str,
        resource_path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Json:
        params = self._client.param_serialize(
            method=method,
            resource_path=resource_path,
            query_params=list((query or {}).items()),
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=dict(body) if body is not None else None,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._client.call_api(*params, _request_timeout=self._timeout)
            response.read()  # type: ignore[no-untyped-call]
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeError(f"{method} {resource_path}: {exc}") from exc
        data = response.data or b""
        if not 200 <= response.status < 300:
            reason = _reason(data)
            raise KubeError(
                f"{method} {resource_path}: {response.status} {reason}", response.status
            )
        if not data:
            return {}
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise KubeError(f"{method} {resource_path}: the answer is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise KubeError(f"{method} {resource_path}: expected a JSON object, got {kind}")
        return document

    def get(self, api_version: str, plural: str, namespace: str, name: str) -> Json | None:
        try:
            return self.request("GET", path(api_version, plural, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list(
        self, api_version: str, plural: str, namespace: str | None = None, selector: str = ""
    ) -> list[Json]:
        query = {"labelSelector": selector} if selector else {}
        pages = self.pages(path(api_version, plural, namespace), query)
        return [item for page in pages for item in page.get("items") or []]

    def pages(self, resource_path: str, query: Mapping[str, str]) -> Iterator[Json]:
        """Every page of a list, 500 items each."""
        query = {"limit": "500", **query}
        while True:
            page = self.request("GET", resource_path, query=query)
            yield page
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return
            query["continue"] = token

    def create(
        self, api_version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> Json:
        return self.request("POST", path(api_version, plural, namespace), body=body)

    def replace(
        self, api_version: str, plural: str, namespace: str, name: str, body: Mapping[str, Any]
    ) -> Json:
        return self.request("PUT", path(api_version, plural, namespace, name), body=body)

    def delete(self, api_version: str, plural: str, namespace: str, name: str) -> None:
        try:
            self.request("DELETE", path(api_version, plural, namespace, name))
        except KubeError as exc:
            if exc.status != 404:
                raise


def _reason(data: bytes) -> str:
    try:
        status = json.loads(data)
    except ValueError:
        return data[:200].decode("utf-8", "replace")
    if isinstance(status, dict):
        return str(status.get("message") or status.get("reason") or "")[:300]
    return ""
