"""``slimgate audit`` against a real kube-apiserver and a real registry: table, JSON, HTML.

The HTML report is opened in headless Chromium (Debian's ``chromium``) and its rendered
DOM checked for the namespaces, totals and offenders; a screenshot is kept next to it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from slimgate.cli.audit import run
from slimgate.cluster.api import KubeApi
from tests.integration.audit.scenario import (
    Images,
    config_text,
    create_chain,
    create_cronjob_chain,
    create_namespace,
    create_pod,
    create_pull_secret,
    push_images,
    push_private,
)
from tests.support.fixtures import TOKEN_PASSWORD, TOKEN_USER
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer, free_port

from .cluster import KubeCluster

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

CHROMIUM = shutil.which("chromium")


@dataclass
class Cluster:
    cluster: KubeCluster
    images: Images
    config: Path
    shop: str
    batch: str
    registry_host: str
    unreachable: str


@pytest.fixture(scope="module")
def cluster(
    kube_cluster: KubeCluster,
    plain_registry: RegistryServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Cluster:
    api = KubeApi(kube_cluster.api_client())
    images = push_images(plain_registry.url, plain_registry.host)
    dead = f"127.0.0.1:{free_port()}"
    config = tmp_path_factory.mktemp("audit") / "config.yaml"
    config.write_text(config_text(plain_registry.host, dead))
    shop, batch = fresh("shop"), fresh("batch")
    for namespace in (shop, batch):
        create_namespace(api, namespace)
    create_chain(api, shop, "web", images.golang, replicas=3)
    create_chain(api, shop, "cart", images.small, replicas=2)
    create_cronjob_chain(api, batch, "nightly", images.big)
    create_pod(api, batch, "lost", f"{dead}/team/x:1")
    return Cluster(
        kube_cluster, images, config, shop, batch, plain_registry.host, f"{dead}/team/x:1"
    )


def _args(env: Cluster, *extra: str) -> list[str]:
    return [
        "--kubeconfig",
        str(env.cluster.kubeconfig_path),
        "--config",
        str(env.config),
        "--no-progress",
        *extra,
    ]


def _json(env: Cluster, tmp_path: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    out = tmp_path / "audit.json"
    assert run(_args(env, "--output", "json", "--output-file", str(out), *extra)) == 0
    loaded: dict = json.loads(out.read_text())  # type: ignore[type-arg]
    return loaded


def test_json_groups_pods_by_owner_and_totals_the_bloat_cost(
    cluster: Cluster, tmp_path: Path
) -> None:
    doc = _json(cluster, tmp_path)
    namespaces = {n["namespace"]: n for n in doc["namespaces"]}
    shop = {w["name"]: w for w in namespaces[cluster.shop]["workloads"]}
    assert set(shop) == {"web", "cart"}
    web = shop["web"]
    assert (web["kind"], web["replicas"], web["result"]) == ("Deployment", 3, "fail")
    [container] = web["containers"]
    assert container["image"] == cluster.images.golang
    rules = {r["rule"]: r["result"] for r in container["results"]}
    assert rules["toolchain-base"] == "fail"
    assert container["bloatBytes"] > 0
    assert web["costBytes"] == 3 * container["bloatBytes"]
    assert shop["cart"]["result"] == "pass"
    assert shop["cart"]["costBytes"] == 0
    batch = {w["name"]: w for w in namespaces[cluster.batch]["workloads"]}
    assert batch["nightly"]["kind"] == "CronJob"
    assert batch["nightly"]["result"] == "warn"
    assert batch["lost"]["result"] == "error"
    assert batch["lost"]["containers"][0]["error"]
    assert doc["totals"]["costBytes"] == sum(n["costBytes"] for n in doc["namespaces"])
    assert doc["totals"]["errors"] >= 1
    offenders = {o["image"]: o for o in doc["offenders"]}
    golang = offenders[cluster.images.golang]
    assert golang["replicas"] >= 3
    assert golang["remediations"][0]["savingBytes"] > 0


def test_namespace_flag_limits_the_audit(cluster: Cluster, tmp_path: Path) -> None:
    doc = _json(cluster, tmp_path, "--namespace", cluster.shop)
    assert [n["namespace"] for n in doc["namespaces"]] == [cluster.shop]
    assert doc["totals"]["workloads"] == 2
    assert doc["totals"]["replicas"] == 5


def test_table_shows_namespaces_offenders_and_cost(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(_args(cluster, "--namespace", cluster.shop)) == 0
    out = capsys.readouterr().out
    assert f"namespace {cluster.shop}" in out
    assert re.search(r"Deployment/web\s+│\s+3\s+│\s+app", out)
    assert "toolchain-base" in out
    assert "top offenders" in out
    assert re.search(r"total\s+│\s+5\s+│", out)


def test_an_unreadable_cluster_is_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.kubeconfig"
    assert run(["--kubeconfig", str(missing), "--no-progress"]) == 2
    assert "cannot load the Kubernetes configuration" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_html_report_renders_in_headless_chromium(cluster: Cluster, tmp_path: Path) -> None:
    page = tmp_path / "audit.html"
    assert run(_args(cluster, "--output", "html", "--output-file", str(page))) == 0
    doc = _json(cluster, tmp_path)
    common = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "slimgate audit" in dom
    assert f'data-label="{cluster.shop}"' in dom
    assert f'data-label="{cluster.batch}"' in dom
    assert f"{doc['totals']['costMegabytes']:,.1f} MB" in dom
    assert cluster.images.golang in dom
    assert "saves" in dom
    shot = tmp_path / "audit.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000
    keep = Path("/tmp/slimgate-audit-report.png")
    keep.write_bytes(shot.read_bytes())


def test_a_negative_top_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["--top", "-1", "--no-progress"])
    assert exited.value.code == 2
    assert "must be 0 or more" in capsys.readouterr().err


def test_an_unwritable_output_file_is_exit_code_2(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "audit.json"
    assert (
        run(_args(cluster, "--namespace", cluster.shop, "-o", "json", "--output-file", str(target)))
        == 2
    )
    err = capsys.readouterr().err
    assert f"cannot write {target}" in err
    assert "Traceback" not in err


def test_pull_secrets_flag_audits_private_images_as_their_pods_pull_them(
    cluster: Cluster, token_registry: RegistryServer, tmp_path: Path
) -> None:
    private = push_private(token_registry, "team/private-audit", TOKEN_USER, TOKEN_PASSWORD)
    api = KubeApi(cluster.cluster.api_client())
    namespace = fresh("private")
    create_namespace(api, namespace)
    create_pull_secret(api, namespace, "regcred", token_registry.host, TOKEN_USER, TOKEN_PASSWORD)
    create_pod(api, namespace, "api", private, pull_secrets=("regcred",))
    token_server = f"127.0.0.1:{token_registry.token_server.port}"
    config = tmp_path / "config.yaml"
    config.write_text(
        "registry:\n"
        f"  allowPrivate: ['{token_registry.host}', '{token_server}']\n"
        f"  tokenRealms: {{'{token_registry.host}': ['{token_server}']}}\n"
        f"  caBundle: '{token_registry.ca_path}'\n"
        "  knownToolchainImages: []\n"
    )

    def audited(*extra: str) -> dict:  # type: ignore[type-arg]
        out = tmp_path / "private.json"
        args = [
            "--kubeconfig",
            str(cluster.cluster.kubeconfig_path),
            "--config",
            str(config),
            "--no-progress",
            "--namespace",
            namespace,
            "--output",
            "json",
            "--output-file",
            str(out),
            *extra,
        ]
        assert run(args) == 0
        [found] = json.loads(out.read_text())["namespaces"]
        [workload] = found["workloads"]
        return workload  # type: ignore[no-any-return]

    without = audited()
    assert without["result"] == "error"  # static credentials only: anonymous was refused
    with_secrets = audited("--pull-secrets")
    assert with_secrets["result"] == "fail"
    rules = {r["rule"]: r["result"] for r in with_secrets["containers"][0]["results"]}
    assert rules["toolchain-base"] == "fail"
