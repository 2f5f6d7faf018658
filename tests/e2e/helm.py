"""Render the Helm chart and have a real API server validate the result.

``helm template`` alone only proves the templates render; the API server is
what rejects unknown fields, bad enums and invalid webhook configurations.
These helpers render a chart into parsed manifests and submit them with
server-side apply in dry-run mode (``dryRun=All``), so every object goes
through validation, defaulting and admission without being stored.

Dry-run stores nothing, so objects that others depend on must exist for
real first: create namespaces with :func:`ensure_namespace`, and install
the report CRDs with :func:`install_report_crds` before dry-running reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

from tests.support.chart import Helm, Manifest

from .cluster import K8sTools, KubeCluster

FIELD_MANAGER = "slimgate-e2e"


def run_helm(cluster: KubeCluster, tools: K8sTools, *args: str) -> str:
    """``helm *args`` against ``cluster``; its stdout, or a failure with helm's stderr."""
    return Helm(tools.helm).on_cluster(cluster.kubeconfig_path, *args).stdout


def isolated(release: str) -> list[str]:
    """helm arguments for a release installed for real on the session's API server: its
    webhook (whose Service has no endpoints here) selects only pods labelled with the
    release's name, so it never judges the pods of other tests."""
    selector = {"matchLabels": {"slimgate.io/e2e-release": release}}
    return ["--set-json", f"webhook.objectSelector={json.dumps(selector)}"]


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


def install_report_crds(cluster: KubeCluster, helm: Helm) -> None:
    """Create the chart's PolicyReport and Report CRDs for real (server-side apply, so a
    second call changes nothing) and wait until the API server serves them."""
    rendering = helm.template(
        values={"crds.policyReports.install": "always", "crds.openReports.install": "always"},
        extra=[
            "--show-only",
            "templates/crds/policyreports.yaml",
            "--show-only",
            "templates/crds/openreports.yaml",
        ],
    )
    with cluster.api_client() as api:
        dynamic = DynamicClient(api)  # type: ignore[no-untyped-call]
        crds = dynamic.resources.get(
            api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
        )
        for crd in rendering.manifests:
            crds.server_side_apply(body=crd, field_manager=FIELD_MANAGER, force_conflicts=True)
        deadline = time.monotonic() + 60
        for crd in rendering.manifests:
            while not _established(crds.get(name=crd["metadata"]["name"]).to_dict()):
                assert time.monotonic() < deadline, f"{crd['metadata']['name']} not established"
                time.sleep(0.5)


def _established(crd: Manifest) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)
