"""Render the Helm chart and have a real API server validate the result.

``helm template`` alone only proves the templates render; the API server is
what rejects unknown fields, bad enums and invalid webhook configurations.
These helpers render a chart into parsed manifests and submit them with
server-side apply in dry-run mode (``dryRun=All``), so every object goes
through validation, defaulting and admission without being stored.

Dry-run stores nothing, so objects that others depend on must exist for
real first: create namespaces with :func:`ensure_namespace`, and install
CRDs for real before dry-running their custom resources.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

Manifest = dict[str, Any]

FIELD_MANAGER = "slimgate-e2e"


def helm_template(
    helm: Path,
    chart: Path,
    *,
    release: str = "slimgate",
    namespace: str = "default",
    values_files: Sequence[Path] = (),
    set_values: Mapping[str, str] = {},
    kube_version: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[Manifest]:
    """Run ``helm template`` and return its documents, skipping empty ones.

    ``values_files`` are passed in order with ``-f`` (later ones win) and
    ``set_values`` with ``--set``. Pass the cluster's version as
    ``kube_version`` so ``.Capabilities.KubeVersion`` matches the server.
    A rendering failure raises ``subprocess.CalledProcessError`` whose
    ``stderr`` holds helm's message.
    """
    args = [str(helm), "template", release, str(chart), "--namespace", namespace]
    for values_file in values_files:
        args += ["--values", str(values_file)]
    for key, value in set_values.items():
        args += ["--set", f"{key}={value}"]
    if kube_version:
        args += ["--kube-version", kube_version]
    args += list(extra_args)
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return parse_manifests(result.stdout)


def parse_manifests(text: str) -> list[Manifest]:
    """Parse a multi-document YAML stream into non-empty mappings."""
    docs: list[Manifest] = []
    for doc in yaml.safe_load_all(text):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValueError(f"manifest is not a mapping: {doc!r}")
        docs.append(doc)
    return docs


@dataclass(frozen=True)
class DryRunFailure:
    """One manifest the API server refused, with its reason."""

    kind: str
    name: str
    namespace: str | None
    status: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}: HTTP {self.status}: {self.message}"


class DryRunError(AssertionError):
    """The API server refused one or more manifests."""

    def __init__(self, failures: Sequence[DryRunFailure]) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"  {failure}" for failure in self.failures)
        super().__init__(f"the API server refused {len(self.failures)} manifest(s):\n{lines}")


def ensure_namespace(api_client: k8s_client.ApiClient, name: str) -> None:
    """Create namespace ``name`` for real unless it already exists."""
    body = k8s_client.V1Namespace(metadata=k8s_client.V1ObjectMeta(name=name))
    try:
        k8s_client.CoreV1Api(api_client).create_namespace(body)
    except ApiException as error:
        if error.status != 409:
            raise


def apply_dry_run(
    api_client: k8s_client.ApiClient,
    manifests: Iterable[Manifest],
    *,
    namespace: str = "default",
    field_manager: str = FIELD_MANAGER,
) -> list[Manifest]:
    """Server-side apply every manifest with ``dryRun=All``; return the results.

    Namespaced objects without ``metadata.namespace`` go to ``namespace``.
    Every manifest is tried; if any is refused, :class:`DryRunError` lists
    them all. The returned objects are what the server would have stored
    (with defaults filled in), in input order.
    """
    dynamic = DynamicClient(api_client)  # type: ignore[no-untyped-call]
    results: list[Manifest] = []
    failures: list[DryRunFailure] = []
    for manifest in manifests:
        kind = str(manifest.get("kind", "?"))
        metadata = manifest.get("metadata") or {}
        name = str(metadata.get("name", "?"))
        target_namespace: str | None = None
        try:
            resource = dynamic.resources.get(
                api_version=manifest.get("apiVersion"), kind=manifest.get("kind")
            )
            if resource.namespaced:
                target_namespace = metadata.get("namespace") or namespace
            applied = resource.server_side_apply(
                body=manifest,
                namespace=target_namespace,
                field_manager=field_manager,
                force_conflicts=True,
                dry_run="All",
            )
        except ResourceNotFoundError as error:
            failures.append(DryRunFailure(kind, name, None, None, f"unknown kind: {error}"))
            continue
        except DynamicApiError as error:
            message = str(error.summary())  # type: ignore[no-untyped-call]
            failures.append(DryRunFailure(kind, name, target_namespace, error.status, message))
            continue
        results.append(applied.to_dict())
    if failures:
        raise DryRunError(failures)
    return results
