"""The chart as the release publishes it: stamped, packaged, pushed to an OCI registry and
installed from there with ``helm install oci://…`` into a real kube-apiserver.

The steps are the release workflow's (``scripts/release.py stamp`` with the image digest,
``helm package``, ``helm push``), run with the real helm against Debian's docker-registry on
127.0.0.1 instead of ghcr.io, with a made-up image digest: nothing builds the image here,
and the API server has no kubelet to pull it. What is checked is what a platform team gets:
the chart found by version in the registry, the Deployments naming the image by the digest
the release recorded, and the version on the release and its objects.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.chart import CHART, REPO_ROOT, Helm
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer

from .cluster import KubeCluster
from .helm import isolated

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

VERSION = "9.8.7"
IMAGE_DIGEST = "sha256:" + hashlib.sha256(b"slimgate 9.8.7 image index").hexdigest()
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CONTENT = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class HelmIn:
    """helm with its configuration, cache and registry logins kept in a temporary home."""

    def __init__(self, helm: Helm, home: Path, kube_cluster: KubeCluster) -> None:
        self.helm = helm
        self.kubeconfig = kube_cluster.kubeconfig_path
        self.env = {
            **os.environ,
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_DATA_HOME": str(home / "data"),
            "HELM_REGISTRY_CONFIG": str(home / "config" / "registry.json"),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.helm.on_cluster(self.kubeconfig, *args, env=self.env)


def install(helm_in: HelmIn, name: str, *chart: str) -> tuple[str, str]:
    """Install ``chart`` from the registry as a fresh release in a fresh namespace; both names."""
    namespace, release = fresh("oci"), fresh(name)
    helm_in(
        "install",
        release,
        *chart,
        "--plain-http",
        "--namespace",
        namespace,
        "--create-namespace",
        "--set",
        "crds.policyReports.install=never",
        *isolated(release),
    )
    return namespace, release


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory,
    helm: Helm,
    kube_cluster: KubeCluster,
    plain_registry: RegistryServer,
) -> dict[str, Any]:
    """Stamp, package and push the chart the way the release does; return what it made."""
    work = tmp_path_factory.mktemp("oci-release")
    tree = work / "tree"
    shutil.copytree(CHART, tree / "chart" / CHART.name)
    init = Path("src/slimgate/__init__.py")
    (tree / init).parent.mkdir(parents=True)
    shutil.copy(REPO_ROOT / init, tree / init)
    stamped = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "release.py"),
            "stamp",
            f"v{VERSION}",
            "--image-digest",
            IMAGE_DIGEST,
            "--root",
            str(tree),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert stamped.returncode == 0, stamped.stderr

    helm_in = HelmIn(helm, work / "helm-home", kube_cluster)
    helm_in("package", str(tree / "chart" / CHART.name), "--destination", str(work / "dist"))
    package = work / "dist" / f"slimgate-{VERSION}.tgz"
    assert package.is_file(), sorted(p.name for p in (work / "dist").iterdir())

    repository = f"{fresh('release')}/charts"
    pushed = helm_in(
        "push", str(package), f"oci://{plain_registry.host}/{repository}", "--plain-http"
    )
    # helm reports the pushed reference and digest on stderr, which the release signs
    digest = re.search(r"^Digest: (sha256:[0-9a-f]{64})$", pushed.stderr, re.M)
    assert digest is not None, pushed.stderr
    return {
        "helm": helm_in,
        "registry": plain_registry,
        "repository": f"{repository}/slimgate",
        "chart_digest": digest.group(1),
        "oci": f"oci://{plain_registry.host}/{repository}/slimgate",
    }


def test_the_registry_holds_the_chart_as_an_oci_artifact(published: dict[str, Any]) -> None:
    registry: RegistryServer = published["registry"]
    base = f"{registry.url}/v2/{published['repository']}"
    with httpx.Client(timeout=10, trust_env=False) as client:
        tags = client.get(f"{base}/tags/list").json()
        response = client.get(f"{base}/manifests/{VERSION}", headers={"Accept": OCI_MANIFEST})
    assert tags["tags"] == [VERSION]
    assert response.status_code == 200
    # the digest helm printed (and the release signs) is the one the registry serves
    assert response.headers["Docker-Content-Digest"] == published["chart_digest"]
    assert response.headers["Content-Type"] == OCI_MANIFEST
    manifest = response.json()
    assert manifest["config"]["mediaType"] == HELM_CONFIG
    assert [layer["mediaType"] for layer in manifest["layers"]] == [HELM_CONTENT]
    assert manifest["annotations"]["org.opencontainers.image.version"] == VERSION


def test_helm_install_from_the_registry_runs_the_image_pinned_by_digest(
    published: dict[str, Any], kube_cluster: KubeCluster
) -> None:
    helm_in: HelmIn = published["helm"]
    namespace, release = install(helm_in, "slimgate", published["oci"], "--version", VERSION)

    metadata = json.loads(helm_in("get", "metadata", release, "-n", namespace, "-o", "json").stdout)
    assert (metadata["chart"], metadata["version"], metadata["appVersion"]) == (
        "slimgate",
        VERSION,
        VERSION,
    )
    deployments = json.loads(kube_cluster.get(f"/apis/apps/v1/namespaces/{namespace}/deployments"))[
        "items"
    ]
    assert deployments, "the chart installed no Deployment"
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        labels = deployment["metadata"]["labels"]
        assert labels["app.kubernetes.io/version"] == VERSION, name
        assert labels["helm.sh/chart"] == f"slimgate-{VERSION}", name
        images = {c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]}
        assert images == {f"ghcr.io/slimgate/slimgate@{IMAGE_DIGEST}"}, name


def test_the_chart_installs_by_its_own_digest_too(
    published: dict[str, Any], kube_cluster: KubeCluster
) -> None:
    """``oci://…/slimgate@sha256:…`` installs exactly the chart that was pushed and signed."""
    helm_in: HelmIn = published["helm"]
    reference = f"{published['oci']}@{published['chart_digest']}"
    namespace, release = install(helm_in, "pinned", reference)
    metadata = json.loads(helm_in("get", "metadata", release, "-n", namespace, "-o", "json").stdout)
    assert metadata["version"] == VERSION
