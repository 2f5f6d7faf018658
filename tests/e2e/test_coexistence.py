"""slimgate's chart next to another tool that owns the report APIs, with real helm.

Each test builds, on a fresh kube-apiserver, what a team's cluster already has before
slimgate arrives, and installs slimgate's chart into it:

* the PolicyReport and Report CRDs owned by another Helm release (``report-owner``, a
  chart of the tests' own in tests/fixtures/charts that stands for Kyverno, Kubewarden or
  trivy-operator's adapter);
* a three-version PolicyReport CRD (v1alpha1, v1alpha2, v1beta1; v1beta1 stored) and no
  OpenReports API at all;
* the PolicyReport and Report APIs served by APIServices (as Kyverno's reports-server
  does), with no CRD.

slimgate's install must succeed, leave every foreign CRD or APIService byte-for-byte as it
was, and leave the other release able to upgrade, uninstall and install again. The audit
operator, started against the three-version CRD with ``--reports both``, writes
PolicyReports only, says once that openreports.io is missing, and gives the two containers
of one pod distinct ``resultID``s.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slimgate.cluster.api import KubeApi
from tests.integration.audit.scenario import config_text, create_namespace, create_pod, push_images
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer

from .admission_setup import eventually
from .cluster import K8sTools, KubeCluster
from .helm import run_helm as helm
from .test_operator import LEASE_NAMESPACE, start_operator

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart" / "slimgate"
OWNER_CHART = ROOT / "tests" / "fixtures" / "charts" / "report-owner"
CRDS = "apiextensions.k8s.io/v1", "customresourcedefinitions"
WG_CRDS = ("policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io")
OR_CRDS = ("reports.openreports.io", "clusterreports.openreports.io")
# the chart leaves report CRDs to other tools by default; these tests try its lookup mode
AUTO = ("crds.policyReports.install=auto", "crds.openReports.install=auto")


@pytest.fixture
def cluster(k8s_tools: K8sTools) -> Iterator[KubeCluster]:
    """A cluster of its own: CRDs are cluster-wide, and each test starts from a clean one."""
    with KubeCluster(k8s_tools) as fresh:
        yield fresh


def install_owner(cluster: KubeCluster, tools: K8sTools, *values: str, adopt: bool = False) -> None:
    """The other tool's chart, owning report CRDs, as release ``reporter`` in ``tools``."""
    sets = [item for value in values for item in ("--set", value)]
    adopting = ["--take-ownership"] if adopt else []
    helm(
        cluster,
        tools,
        "install",
        "reporter",
        str(OWNER_CHART),
        "-n",
        "tools",
        "--create-namespace",
        *sets,
        *adopting,
    )


def install_slimgate(cluster: KubeCluster, tools: K8sTools, *values: str) -> str:
    sets = [item for value in values for item in ("--set", value)]
    helm(
        cluster,
        tools,
        "install",
        "slimgate",
        str(CHART),
        "-n",
        "slimgate",
        "--create-namespace",
        *sets,
    )
    return helm(cluster, tools, "get", "manifest", "slimgate", "-n", "slimgate")


def raw(cluster: KubeCluster, path: str) -> bytes:
    """The API server's exact answer: every field, resourceVersion and managedFields."""
    return cluster.get(path)


def crd_bytes(cluster: KubeCluster, names: tuple[str, ...]) -> dict[str, bytes]:
    return {
        name: raw(cluster, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        for name in names
    }


def settled_crds(cluster: KubeCluster, names: tuple[str, ...]) -> dict[str, bytes]:
    """The CRDs once the API server has accepted their names and serves them (it writes
    their status conditions just after creation)."""

    def established() -> dict[str, bytes] | None:
        found = crd_bytes(cluster, names)
        for answer in found.values():
            conditions = json.loads(answer).get("status", {}).get("conditions") or []
            if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                return None
        return found

    return eventually(established, what="the CRDs to be established", timeout=30.0)


def kinds_in(manifest: str) -> list[str]:
    return [
        line.split(":", 1)[1].strip() for line in manifest.splitlines() if line.startswith("kind:")
    ]


def crd_names_in(manifest: str) -> list[str]:
    documents = manifest.split("\n---")
    names = []
    for document in documents:
        if "\nkind: CustomResourceDefinition" in "\n" + document:
            for line in document.splitlines():
                if line.startswith("  name:"):
                    names.append(line.split(":", 1)[1].strip())
                    break
    return names


STUCK = "storage is (re)initializing"
CLEANUP = "customresourcecleanup.apiextensions.k8s.io"


def wait_until_deleted(cluster: KubeCluster, names: list[str], timeout: float = 60.0) -> None:
    """Wait for the API server to finish deleting CRDs: its CRD finalizer removes every
    instance first.

    On a loaded machine that finalizer can meet a CRD whose storage is being set up again
    (``InstanceDeletionFailed``: "could not list instances: storage is (re)initializing")
    and back off for minutes; other projects' tests meet the same state. In exactly that
    state, after ``timeout``, the test removes the cleanup finalizer itself (the CRDs here
    belong to the test's own cluster); any other state fails with what holds each CRD.
    """
    last: dict[str, Any] = {}

    def gone() -> bool:
        last.clear()
        for name in names:
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
            try:
                crd = json.loads(raw(cluster, path))
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    continue
                raise
            last[name] = {
                "deletionTimestamp": crd["metadata"].get("deletionTimestamp"),
                "finalizers": crd["metadata"].get("finalizers"),
                "conditions": crd.get("status", {}).get("conditions"),
            }
        return not last

    what = "the uninstalled release's CRDs to be deleted"
    try:
        eventually(gone, what=what, timeout=timeout)
        return
    except AssertionError as error:
        stuck = {name: state for name, state in last.items() if _reinitializing(state)}
        if stuck != last:
            raise AssertionError(f"{error}; still present: {json.dumps(last, indent=1)}") from None
    api = KubeApi(cluster.api_client())
    for name in stuck:
        crd = api.get(*CRDS, "", name)
        if crd is None:
            continue
        crd["metadata"]["finalizers"] = [
            f for f in crd["metadata"].get("finalizers") or [] if f != CLEANUP
        ]
        api.replace(*CRDS, "", name, crd)
    eventually(gone, what=f"{what} after their cleanup finalizer was removed", timeout=30.0)


def _reinitializing(state: dict[str, Any]) -> bool:
    return state["deletionTimestamp"] is not None and any(
        c.get("type") == "Terminating" and STUCK in (c.get("message") or "")
        for c in state["conditions"] or []
    )


def owner_still_upgrades_and_reinstalls(
    cluster: KubeCluster, tools: K8sTools, *values: str
) -> None:
    sets = [item for value in values for item in ("--set", value)]
    chart = [str(OWNER_CHART), "-n", "tools", *sets]
    helm(cluster, tools, "upgrade", "reporter", *chart, "--set", "generation=2")
    manifest = helm(cluster, tools, "get", "manifest", "reporter", "-n", "tools")
    helm(cluster, tools, "uninstall", "reporter", "-n", "tools")
    names = crd_names_in(manifest)
    assert names, "the owner release should own CRDs here"
    wait_until_deleted(cluster, names)
    helm(cluster, tools, "install", "reporter", *chart, "--set", "generation=3")
    settings = json.loads(raw(cluster, "/api/v1/namespaces/tools/configmaps/reporter-settings"))
    assert settings["data"]["generation"] == "3"


def test_crds_owned_by_another_release_are_left_alone(
    cluster: KubeCluster, k8s_tools: K8sTools
) -> None:
    install_owner(cluster, k8s_tools)
    before = settled_crds(cluster, WG_CRDS + OR_CRDS)

    manifest = install_slimgate(cluster, k8s_tools, *AUTO, "operator.reports=both")

    assert "CustomResourceDefinition" not in kinds_in(manifest)
    assert crd_bytes(cluster, WG_CRDS + OR_CRDS) == before
    # a later upgrade of slimgate leaves them alone too
    helm(cluster, k8s_tools, "upgrade", "slimgate", str(CHART), "-n", "slimgate", "--reuse-values")
    assert crd_bytes(cluster, WG_CRDS + OR_CRDS) == before
    owner_still_upgrades_and_reinstalls(cluster, k8s_tools)
    helm(cluster, k8s_tools, "upgrade", "slimgate", str(CHART), "-n", "slimgate", "--reuse-values")


def test_a_three_version_policyreport_crd_and_no_openreports(
    cluster: KubeCluster,
    k8s_tools: K8sTools,
    plain_registry: RegistryServer,
    tmp_path: Path,
) -> None:
    three = ("policyReports=threeVersions", "openReports=false")
    install_owner(cluster, k8s_tools, *three)
    before = settled_crds(cluster, WG_CRDS)
    stored = json.loads(before[WG_CRDS[0]])["status"]["storedVersions"]
    assert stored == ["v1beta1"]

    manifest = install_slimgate(cluster, k8s_tools, *AUTO)

    assert "CustomResourceDefinition" not in kinds_in(manifest)
    assert crd_bytes(cluster, WG_CRDS) == before
    api = KubeApi(cluster.api_client())
    for name in OR_CRDS:  # the default writes PolicyReports only: no OpenReports CRD
        assert api.get(*CRDS, "", name) is None

    audit_two_containers(cluster, api, plain_registry, tmp_path)
    owner_still_upgrades_and_reinstalls(cluster, k8s_tools, *three)


def audit_two_containers(
    cluster: KubeCluster, api: KubeApi, registry: RegistryServer, workdir: Path
) -> None:
    """The operator, asked for both APIs, writes the served one only; two containers,
    two resultIDs per rule."""
    images = push_images(registry.url, registry.host)
    config = workdir / "config.yaml"
    config.write_text(config_text(registry.host))
    create_namespace(api, LEASE_NAMESPACE)
    namespace = fresh("two")
    create_namespace(api, namespace)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {"name": "app", "image": images.golang},
                {"name": "sidecar", "image": images.golang},
            ]
        },
    }
    api.create("v1", "pods", namespace, pod)
    operator = start_operator(cluster, config, workdir, "coexist", "--reports", "both")
    try:
        report: dict[str, Any] = eventually(
            lambda: api.get("wgpolicyk8s.io/v1alpha2", "policyreports", namespace, "slimgate"),
            what="the PolicyReport",
            timeout=90.0,
        )
        results = report["results"]
        ids = [r["properties"]["resultID"] for r in results]
        assert len(ids) == len(set(ids))
        fails = [r for r in results if r["result"] == "fail"]
        assert {r["resources"][0]["fieldPath"] for r in fails} == {
            "spec.containers{app}",
            "spec.containers{sidecar}",
        }
        by_rule: dict[str, set[str]] = {}
        for item in fails:
            by_rule.setdefault(item["rule"], set()).add(item["properties"]["resultID"])
        assert by_rule
        assert all(len(ids) == 2 for ids in by_rule.values()), by_rule
        assert all(r.get("severity") for r in results)
        # the same report through the stored version
        stored = api.get("wgpolicyk8s.io/v1beta1", "policyreports", namespace, "slimgate")
        assert stored is not None
        assert len(stored["results"]) == len(results)

        metrics = operator.metrics()
        assert 'slimgate_audit_report_api_served{api="openreports.io/v1alpha1"} 0.0' in metrics
        assert 'slimgate_audit_report_api_served{api="wgpolicyk8s.io/v1alpha2"} 1.0' in metrics
        log = operator.log_text()
        assert log.count("openreports.io/v1alpha1 (reports) is not served") == 1
        assert "cannot write Report" not in log
    finally:
        operator.stop()


def test_report_apis_served_by_apiservices_get_no_crd(
    cluster: KubeCluster, k8s_tools: K8sTools
) -> None:
    api = KubeApi(cluster.api_client())
    names = []
    for group, version in (("wgpolicyk8s.io", "v1alpha2"), ("openreports.io", "v1alpha1")):
        name = f"{version}.{group}"
        names.append(name)
        api.create(
            "apiregistration.k8s.io/v1",
            "apiservices",
            "",
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": name},
                "spec": {
                    "group": group,
                    "version": version,
                    "groupPriorityMinimum": 100,
                    "versionPriority": 100,
                    "insecureSkipTLSVerify": True,
                    "service": {"name": "reports-server", "namespace": "kyverno", "port": 443},
                },
            },
        )
    before = {n: raw(cluster, f"/apis/apiregistration.k8s.io/v1/apiservices/{n}") for n in names}

    manifest = install_slimgate(cluster, k8s_tools, *AUTO, "operator.reports=both")

    assert "CustomResourceDefinition" not in kinds_in(manifest)
    for name in WG_CRDS + OR_CRDS:
        assert api.get(*CRDS, "", name) is None
    after = {n: raw(cluster, f"/apis/apiregistration.k8s.io/v1/apiservices/{n}") for n in names}
    assert {n: _without_status(b) for n, b in after.items()} == {
        n: _without_status(b) for n, b in before.items()
    }


def _without_status(answer: bytes) -> dict[str, Any]:
    """An APIService's spec and metadata; its status is the aggregator's to change."""
    document: dict[str, Any] = json.loads(answer)
    document.pop("status", None)
    return document


def test_a_default_install_first_leaves_the_crds_to_the_tool_that_comes_next(
    cluster: KubeCluster,
    k8s_tools: K8sTools,
    plain_registry: RegistryServer,
    tmp_path: Path,
) -> None:
    """The README's "set nothing": slimgate first on a bare cluster, then another chart that
    owns the report CRDs installs as if slimgate were not there, and the running operator
    starts writing its reports once the API appears."""
    manifest = install_slimgate(cluster, k8s_tools)
    assert "CustomResourceDefinition" not in kinds_in(manifest)
    api = KubeApi(cluster.api_client())
    for name in WG_CRDS + OR_CRDS:
        assert api.get(*CRDS, "", name) is None

    images = push_images(plain_registry.url, plain_registry.host)
    config = tmp_path / "config.yaml"
    config.write_text(config_text(plain_registry.host))
    create_namespace(api, LEASE_NAMESPACE)
    namespace = fresh("later")
    create_namespace(api, namespace)
    create_pod(api, namespace, "web", images.golang)
    operator = start_operator(cluster, config, tmp_path, "later", "--interval", "2")
    try:
        missing = 'slimgate_audit_report_api_served{api="wgpolicyk8s.io/v1alpha2"} 0.0'
        eventually(lambda: missing in operator.metrics(), what="the missing API's gauge")

        install_owner(cluster, k8s_tools)
        owned = settled_crds(cluster, WG_CRDS + OR_CRDS)
        for answer in owned.values():
            annotations = json.loads(answer)["metadata"]["annotations"]
            assert annotations["meta.helm.sh/release-name"] == "reporter"

        report: dict[str, Any] = eventually(
            lambda: api.get("wgpolicyk8s.io/v1alpha2", "policyreports", namespace, "slimgate"),
            what="the PolicyReport once the API is served",
            timeout=90.0,
        )
        assert any(r["result"] == "fail" for r in report["results"])
        assert (
            operator.log_text().count("wgpolicyk8s.io/v1alpha2 (policyreports) is not served") == 1
        )
    finally:
        operator.stop()

    helm(cluster, k8s_tools, "upgrade", "slimgate", str(CHART), "-n", "slimgate", "--reuse-values")
    assert crd_bytes(cluster, WG_CRDS + OR_CRDS) == owned
    owner_still_upgrades_and_reinstalls(cluster, k8s_tools)
    helm(cluster, k8s_tools, "uninstall", "slimgate", "-n", "slimgate")
    assert crd_bytes(cluster, WG_CRDS + OR_CRDS).keys() == owned.keys()


def test_on_an_empty_cluster_slimgate_installs_and_keeps_its_own_crds(
    cluster: KubeCluster, k8s_tools: K8sTools
) -> None:
    manifest = install_slimgate(cluster, k8s_tools, *AUTO)
    assert kinds_in(manifest).count("CustomResourceDefinition") == 2
    before = crd_bytes(cluster, WG_CRDS)
    # an upgrade finds the CRDs this release installed and keeps rendering them
    helm(cluster, k8s_tools, "upgrade", "slimgate", str(CHART), "-n", "slimgate", "--reuse-values")
    upgraded = helm(cluster, k8s_tools, "get", "manifest", "slimgate", "-n", "slimgate")
    assert kinds_in(upgraded).count("CustomResourceDefinition") == 2
    assert {
        n: json.loads(b)["metadata"]["uid"] for n, b in crd_bytes(cluster, WG_CRDS).items()
    } == {n: json.loads(b)["metadata"]["uid"] for n, b in before.items()}


def test_crds_slimgate_installed_first_are_handed_over_to_another_release(
    cluster: KubeCluster, k8s_tools: K8sTools
) -> None:
    """The README's hand-over: upgrade slimgate with install=never (the kept CRDs stay),
    then the other chart takes them with --take-ownership; slimgate never deletes them."""
    manifest = install_slimgate(cluster, k8s_tools, *AUTO)
    assert kinds_in(manifest).count("CustomResourceDefinition") == 2
    upgrade = [str(CHART), "-n", "slimgate", "--reuse-values"]
    helm(
        cluster,
        k8s_tools,
        "upgrade",
        "slimgate",
        *upgrade,
        "--set",
        "crds.policyReports.install=never",
    )
    uids = {n: json.loads(b)["metadata"]["uid"] for n, b in crd_bytes(cluster, WG_CRDS).items()}

    install_owner(cluster, k8s_tools, "openReports=false", adopt=True)
    owned = settled_crds(cluster, WG_CRDS)
    for answer in owned.values():
        annotations = json.loads(answer)["metadata"]["annotations"]
        assert annotations["meta.helm.sh/release-name"] == "reporter"
    assert {n: json.loads(b)["metadata"]["uid"] for n, b in owned.items()} == uids

    helm(
        cluster,
        k8s_tools,
        "upgrade",
        "slimgate",
        *upgrade,
        "--set",
        "crds.policyReports.install=auto",
    )
    assert crd_bytes(cluster, WG_CRDS) == owned
    owner_still_upgrades_and_reinstalls(cluster, k8s_tools, "openReports=false")
