"""Fixtures for the chart tests: the real helm binary, built once if missing.

helm is built from Go modules on first use (``scripts/ensure-k8s-tools.sh``),
which takes minutes once and is cached afterwards. The build runs after
collection, outside any test's timeout, and only when a chart test was
selected. Without a Go toolchain the chart tests are skipped with that reason;
a failed build is an error, never a skip. Chart tests that need an API server
are in tests/e2e, which shares one for the session.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.chart import Helm, HelmUnavailable, ensure_helm

_HERE = Path(__file__).resolve().parent
_helm: Path | None = None
_helm_problem: str | None = None
_helm_unavailable: str | None = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this directory as ``helm``."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.helm)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Find or build the tools before any test runs, if a chart test was selected."""
    global _helm, _helm_problem, _helm_unavailable
    ours = [item for item in session.items if _HERE in Path(item.path).resolve().parents]
    if not ours or session.config.option.collectonly:
        return
    try:
        _helm = ensure_helm()
    except HelmUnavailable as exc:
        _helm_unavailable = str(exc)
        return
    except subprocess.CalledProcessError as exc:
        _helm_problem = f"building helm failed with exit code {exc.returncode}"


@pytest.fixture(scope="session")
def helm() -> Helm:
    """The real helm, pointed at chart/slimgate."""
    if _helm_unavailable is not None:
        pytest.skip(_helm_unavailable)
    if _helm_problem is not None:
        pytest.fail(_helm_problem)
    if _helm is None:  # the collection hook did not run for this item
        try:
            return Helm(ensure_helm())
        except HelmUnavailable as exc:
            pytest.skip(str(exc))
    return Helm(_helm)
