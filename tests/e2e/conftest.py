"""Session fixtures that give end-to-end tests a real Kubernetes API server.

The tools are built from Go modules on first use (see
``scripts/ensure-k8s-tools.sh``), which takes many minutes once and is
cached afterwards. The build runs once collection is done, outside any
test's timeout, and only when e2e tests were selected. Without a Go
toolchain the e2e tests are skipped; any other build or start-up failure is
a test error, never a silent skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chart import Helm

from .cluster import ClusterError, K8sTools, KubeCluster, ensure_tools

_HERE = Path(__file__).resolve().parent
_tools: K8sTools | None = None
_tools_error: ClusterError | None = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this directory as ``e2e``."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Build the tools before any test runs, if an e2e test was selected."""
    global _tools, _tools_error
    wanted = any(item.get_closest_marker("e2e") for item in session.items)
    if not wanted or shutil.which("go") is None or session.config.option.collectonly:
        return
    try:
        _tools = ensure_tools()
    except ClusterError as error:
        _tools_error = error


@pytest.fixture(scope="session")
def k8s_tools() -> K8sTools:
    """kube-apiserver, kine and helm binaries, built on first use."""
    if shutil.which("go") is None:
        pytest.skip("the Go toolchain (go) is not installed; it builds kube-apiserver, kine, helm")
    if _tools_error is not None:
        raise _tools_error
    return _tools if _tools is not None else ensure_tools()


@pytest.fixture(scope="session")
def helm(k8s_tools: K8sTools) -> Helm:
    """The real helm, pointed at chart/slimgate."""
    return Helm(k8s_tools.helm)


@pytest.fixture(scope="session")
def kube_cluster(k8s_tools: K8sTools) -> Iterator[KubeCluster]:
    """A running kine + kube-apiserver on loopback, shared by the session.

    Set ``SLIMGATE_E2E_KEEP=1`` to keep its work directory (logs,
    certificates, kubeconfig) after the run.
    """
    keep = os.environ.get("SLIMGATE_E2E_KEEP", "") not in ("", "0")
    with KubeCluster(k8s_tools, keep_workdir=keep) as cluster:
        yield cluster
