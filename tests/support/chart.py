"""Find helm and render the chart into parsed manifests: the one chart renderer of the tests.

The chart is tested with the real ``helm`` binary (built from Go modules by
``scripts/ensure-k8s-tools.sh``), never with a re-implementation of its
template engine: ``helm template`` is what renders the manifests users get,
and ``values.schema.json`` is only enforced by helm itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "chart" / "slimgate"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
ENSURE_TOOLS_SCRIPT = REPO_ROOT / "scripts" / "ensure-k8s-tools.sh"
HELM_VERSION = "v3.21.4"
# Render for the Kubernetes version of the tests' API server, not the one
# helm assumes without a cluster (its client-go's, 1.36 for v3.21.4).
KUBE_VERSION = "1.34.0"

Manifest = dict[str, Any]


class HelmUnavailable(RuntimeError):
    """helm is not cached and cannot be built here."""


def ensure_helm() -> Path:
    """Return the cached helm, building it with the Go toolchain if needed.

    Raises :class:`HelmUnavailable` when there is no helm and no ``go`` to
    build one; a failed build raises ``subprocess.CalledProcessError``.
    """
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    helm = Path(cache) / "slimgate" / f"helm-{HELM_VERSION}" / "helm"  # as the script caches it
    if helm.is_file() and os.access(helm, os.X_OK):
        return helm
    if shutil.which("go") is None:
        raise HelmUnavailable(
            f"helm is not cached at {helm} and the Go toolchain (go) that builds it is absent"
        )
    result = subprocess.run(
        ["bash", str(ENSURE_TOOLS_SCRIPT), "helm"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    for line in result.stdout.splitlines():
        if line.startswith("HELM="):
            return Path(line.removeprefix("HELM="))
    raise RuntimeError(f"{ENSURE_TOOLS_SCRIPT} printed no HELM= line: {result.stdout!r}")


def parse_manifests(text: str) -> list[Manifest]:
    """Parse a multi-document YAML stream into its non-empty mappings."""
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


@dataclass(frozen=True)
class Rendering:
    """The documents ``helm template`` produced, with lookups by kind and name."""

    manifests: list[Manifest]

    def all(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> Manifest:
        """The single object of ``kind`` (named ``name``, if given)."""
        found = [m for m in self.all(kind) if name is None or m["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {m["metadata"]["name"] for m in self.all(kind)}

    def config(self) -> Manifest:
        """slimgate's configuration file, parsed from the ConfigMap."""
        configmap = self.one("ConfigMap", f"{self.fullname}-config")
        parsed: Manifest = yaml.safe_load(configmap["data"]["config.yaml"])
        return parsed

    @property
    def fullname(self) -> str:
        return str(self.one("ValidatingWebhookConfiguration")["metadata"]["name"])


class Options(TypedDict, total=False):
    """What a rendering may set: release and namespace ("slimgate"), values files, values
    (``--set-json`` key path -> value), extra helm arguments, the Kubernetes version."""

    release: str
    namespace: str
    values_files: Iterable[Path]
    values: Mapping[str, object]
    extra: Sequence[str]
    kube_version: str


@dataclass(frozen=True)
class Helm:
    """A helm binary and the chart it renders."""

    binary: Path
    chart: Path = CHART

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, check=False, timeout=120
        )

    def on_cluster(
        self, kubeconfig: Path, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``helm --kubeconfig kubeconfig *args``; fails with helm's stderr unless it succeeds."""
        result = subprocess.run(
            [str(self.binary), "--kubeconfig", str(kubeconfig), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
            env=env,
        )
        assert result.returncode == 0, f"helm {' '.join(args)} failed:\n{result.stderr}"
        return result

    def template_args(self, **options: Unpack[Options]) -> list[str]:
        """``helm template`` arguments; ``values`` are set with ``--set-json`` (key path ->
        value), after the ``values_files`` in order (later ones win)."""
        args = ["template", options.get("release", "slimgate"), str(self.chart)]
        args += ["--namespace", options.get("namespace", "slimgate")]
        args += ["--kube-version", options.get("kube_version", KUBE_VERSION)]
        for path in options.get("values_files", ()):
            args += ["--values", str(path)]
        for key, value in options.get("values", {}).items():
            args += ["--set-json", f"{key}={json.dumps(value)}"]
        return args + list(options.get("extra", ()))

    def template(self, **options: Unpack[Options]) -> Rendering:
        """Render the chart (options as for :meth:`template_args`); it must succeed."""
        result = self.run(*self.template_args(**options))
        assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
        return Rendering(parse_manifests(result.stdout))

    def template_error(self, **options: Unpack[Options]) -> str:
        """Render with values that must be refused; return helm's error text."""
        result = self.run(*self.template_args(**options))
        assert result.returncode != 0, "helm accepted values it should have refused"
        return result.stderr


def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Manifest, name: str) -> Manifest:
    found: list[Manifest] = [c for c in pod_spec(workload)["containers"] if c["name"] == name]
    assert len(found) == 1, f"no container {name!r}"
    return found[0]
