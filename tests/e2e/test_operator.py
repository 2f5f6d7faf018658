"""The audit operator (kopf, as ``slimgate operator``) against a real kube-apiserver.

Images live in a real registry; pods and the Deployment → ReplicaSet → Pod and CronJob →
Job → Pod chains are created through the API server (no controller-manager runs, so we
make the ReplicaSets, Jobs and pods ourselves, linked by ownerReferences). The webhook is
not registered. The PolicyReport and Report CRDs come from the Helm chart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from slimgate.cluster.api import Json, KubeApi
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
from tests.support import processes
from tests.support.chart import Helm
from tests.support.fixtures import TOKEN_PASSWORD, TOKEN_USER
from tests.support.names import fresh
from tests.support.registry_server import RegistryServer, free_port
from tests.support.served import metric

from .admission_setup import eventually
from .cluster import KubeCluster
from .helm import install_report_crds

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

PR = ("wgpolicyk8s.io/v1alpha2", "policyreports")
OR = ("openreports.io/v1alpha1", "reports")
LEASE_NAMESPACE = "slimgate-system"
CREDS = "creds"  # namespace prefix of the pull-secret test


def holder(api: KubeApi, lease: str = "slimgate-operator") -> str | None:
    """Who holds ``lease`` (in :data:`LEASE_NAMESPACE`) now."""
    found = api.get("coordination.k8s.io/v1", "leases", LEASE_NAMESPACE, lease) or {}
    holding: str | None = found.get("spec", {}).get("holderIdentity")
    return holding


@dataclass
class Operator:
    process: subprocess.Popen[bytes]
    log: Path
    metrics_port: int

    def stop(self) -> None:
        processes.stop(self.process, grace=20)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def metrics(self) -> str:
        """The operator's ``/metrics`` page now, or "" while it does not answer yet."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # a loopback URL
                text: str = response.read().decode()
        except urllib.error.URLError:
            return ""
        return text

    def metric(self, name: str) -> float:
        """:func:`tests.support.served.metric` of the metrics page now."""
        return metric(self.metrics(), name)


def start_operator(
    cluster: KubeCluster, config: Path, workdir: Path, identity: str, *extra: str
) -> Operator:
    port = free_port()
    log = workdir / f"operator-{identity}.log"
    args = [
        sys.executable,
        "-c",
        "import sys; from slimgate.operator.app import run; sys.exit(run(sys.argv[1:]))",
        "--kubeconfig",
        str(cluster.kubeconfig_path),
        "--config",
        str(config),
        "--metrics-port",
        str(port),
        "--metrics-address",
        "127.0.0.1",
        "--debounce",
        "0.5",
        "--lease-namespace",
        LEASE_NAMESPACE,
        "--lease-duration",
        "4",
        "--identity",
        identity,
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    return Operator(process, log, port)


@dataclass
class Env:
    cluster: KubeCluster
    api: KubeApi
    images: Images
    unreachable: str
    config: Path
    workdir: Path
    operator: Operator


@pytest.fixture(scope="module")
def env(
    kube_cluster: KubeCluster,
    helm: Helm,
    plain_registry: RegistryServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Env]:
    workdir = tmp_path_factory.mktemp("operator")
    api = KubeApi(kube_cluster.api_client())
    install_report_crds(kube_cluster, helm)
    create_namespace(api, LEASE_NAMESPACE)
    images = push_images(plain_registry.url, plain_registry.host)
    dead = f"127.0.0.1:{free_port()}"  # nothing listens here
    config = workdir / "config.yaml"
    # the namespaces of the pull-secret test belong to the operator that test starts
    config.write_text(
        config_text(plain_registry.host, dead).replace(
            "excludedNamespaces: [kube-system]", f"excludedNamespaces: [kube-system, '{CREDS}-*']"
        )
    )
    operator = start_operator(kube_cluster, config, workdir, "first", "--reports", "both")
    try:
        eventually(
            lambda: holder(api) == "first", what="the operator to take the lease", timeout=60.0
        )
        yield Env(kube_cluster, api, images, f"{dead}/team/x:1", config, workdir, operator)
    finally:
        operator.stop()
        print(operator.log_text()[-6000:])


def _namespace(api: KubeApi) -> str:
    name = fresh("audit")
    create_namespace(api, name)
    return name


def report(env: Env, namespace: str, flavour: tuple[str, str] = PR) -> Json | None:
    return env.api.get(*flavour, namespace, "slimgate")


def results_by(report_body: Json) -> dict[tuple[str, str, str], Json]:
    return {
        (r["resources"][0]["kind"], r["resources"][0]["name"], r["rule"]): r
        for r in report_body["results"]
    }


def wait_report(
    api: KubeApi, namespace: str, ready: Callable[[Json], bool], timeout: float = 60
) -> Json:
    """The PolicyReport in ``namespace`` once ``ready`` says it is."""

    def check() -> Json | None:
        body = api.get(*PR, namespace, "slimgate")
        return body if body is not None and ready(body) else None

    return eventually(check, f"the report in {namespace}", timeout)


def test_one_report_per_namespace_with_workloads_found_through_owners(env: Env) -> None:
    namespace = _namespace(env.api)
    deployment, _, _ = create_chain(env.api, namespace, "web", env.images.golang, replicas=3)
    create_cronjob_chain(env.api, namespace, "nightly", env.images.big)
    create_pod(env.api, namespace, "debug", env.images.small)
    body = wait_report(
        env.api, namespace, lambda b: len({r["resources"][0]["name"] for r in b["results"]}) == 3
    )

    assert body["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "slimgate"
    results = results_by(body)
    web = results[("Deployment", "web", "toolchain-base")]
    assert web["result"] == "fail"
    assert web["policy"] == web["source"] == "slimgate"
    assert web["severity"] in ("high", "critical")
    assert web["resources"][0]["uid"] == deployment["metadata"]["uid"]
    assert web["properties"]["image"] == env.images.golang
    assert web["properties"]["digest"].startswith("sha256:")
    assert web["properties"]["remediation"]
    assert set(web["timestamp"]) == {"seconds", "nanos"}
    assert all(isinstance(v, str) for r in body["results"] for v in r["properties"].values())
    assert results[("CronJob", "nightly", "oversize-layer")]["result"] == "warn"
    assert results[("Pod", "debug", "toolchain-base")]["result"] == "pass"
    assert {r["result"] for k, r in results.items() if k[1] == "debug"} == {"pass"}
    counted = {k: sum(1 for r in body["results"] if r["result"] == k) for k in body["summary"]}
    assert body["summary"] == counted
    # the openreports flavour is written as well, right after the PolicyReport
    open_report = eventually(
        lambda: (
            (found := report(env, namespace, OR)) and found["summary"] == body["summary"] and found
        ),
        what="the openreports Report",
        timeout=30.0,
    )
    assert open_report["source"] == "slimgate"


def test_the_report_follows_an_image_change_and_empties_when_workloads_go(env: Env) -> None:
    namespace = _namespace(env.api)
    create_pod(env.api, namespace, "solo", env.images.small)
    wait_report(env.api, namespace, lambda b: bool(b["results"]))
    pod = env.api.get("v1", "pods", namespace, "solo")
    assert pod is not None
    pod["spec"]["containers"][0]["image"] = env.images.golang_v2
    env.api.replace("v1", "pods", namespace, "solo", pod)
    body = wait_report(
        env.api,
        namespace,
        lambda b: {r["properties"]["image"] for r in b["results"]} == {env.images.golang_v2},
    )
    assert results_by(body)[("Pod", "solo", "toolchain-base")]["result"] == "fail"
    env.api.delete("v1", "pods", namespace, "solo")
    body = wait_report(env.api, namespace, lambda b: b["results"] == [])
    assert body["summary"] == {"pass": 0, "skip": 0, "warn": 0, "fail": 0, "error": 0}


def test_an_unreachable_registry_gives_error_results(env: Env) -> None:
    namespace = _namespace(env.api)
    create_pod(env.api, namespace, "lost", env.unreachable)
    body = wait_report(env.api, namespace, lambda b: bool(b["results"]))
    [error] = body["results"]
    assert (error["result"], error["rule"]) == ("error", "registry-error")
    assert error["properties"]["reason"]
    assert env.unreachable in error["message"]
    assert body["summary"]["error"] == 1


def test_denied_workloads_get_one_event_not_one_per_pod(env: Env) -> None:
    namespace = _namespace(env.api)
    create_chain(env.api, namespace, "api", env.images.golang, replicas=4)
    wait_report(env.api, namespace, lambda b: bool(b["results"]))

    def events() -> list[Json]:
        return [
            e
            for e in env.api.list("v1", "events", namespace)
            if e.get("reason") == "ToolchainImage"
        ]

    [event] = eventually(events, what="the ToolchainImage event", timeout=60.0)
    assert event["involvedObject"]["kind"] == "Deployment"
    assert event["involvedObject"]["name"] == "api"
    assert event["type"] == "Warning"
    assert env.images.golang in event["message"]
    create_pod(env.api, namespace, "api-extra", env.images.golang)  # a bare pod: its own workload
    time.sleep(3)
    assert len([e for e in events() if e["involvedObject"]["name"] == "api"]) == 1


def test_metrics_are_served(env: Env) -> None:
    def scrape() -> str | None:
        text = env.operator.metrics()
        return text if "slimgate_audit_scans_total" in text else None

    text = eventually(scrape, what="metrics", timeout=60.0)
    for name in (
        "slimgate_audit_subjects_evaluated_total",
        'slimgate_audit_results{outcome="fail"}',
        "slimgate_audit_duration_seconds_count",
        "slimgate_audit_leader 1.0",
        # the registry client's counters, named as the webhook's
        'slimgate_registry_requests_total{host="',
        "slimgate_registry_cache_hits_total{",
    ):
        assert name in text


def test_the_operator_logs_json_lines(env: Env) -> None:
    lines = [line for line in env.operator.log_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line, kopf's too
    assert any(r["logger"] == "slimgate.operator" and "starting" in r["message"] for r in records)
    assert any(r["logger"].startswith("kopf") for r in records)
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)


def test_a_second_replica_waits_and_takes_over_when_the_leader_stops(env: Env) -> None:
    second = start_operator(env.cluster, env.config, env.workdir, "second")
    try:
        time.sleep(6)
        assert holder(env.api) == "first"
        env.operator.stop()
        eventually(
            lambda: holder(env.api) == "second", what="the standby to take the lease", timeout=30
        )
        namespace = _namespace(env.api)
        create_pod(env.api, namespace, "after", env.images.small)
        wait_report(env.api, namespace, lambda b: bool(b["results"]))
    finally:
        second.stop()
        print(second.log_text()[-3000:])


def test_private_images_are_read_with_the_pods_pull_secrets(
    env: Env, token_registry: RegistryServer
) -> None:
    """With ``registry.pullSecrets`` the operator reads a pod's imagePullSecrets (through the
    API server, like the kubelet) and audits its private image; a pod without them gets an
    error result for the same image."""
    private = push_private(token_registry, "team/private-api", TOKEN_USER, TOKEN_PASSWORD)
    token_server = f"127.0.0.1:{token_registry.token_server.port}"
    config = env.workdir / "config-pull-secrets.yaml"
    config.write_text(
        "registry:\n"
        f"  allowPrivate: ['{token_registry.host}', '{token_server}']\n"
        f"  tokenRealms: {{'{token_registry.host}': ['{token_server}']}}\n"
        f"  caBundle: '{token_registry.ca_path}'\n"
        "  pullSecrets: true\n"
        "  knownToolchainImages: []\n"
        "policy:\n"
        "  thresholds: {layerMegabytes: 1, imageMegabytes: 1000}\n"
        "operator:\n"
        f"  namespaces: ['{CREDS}-*']\n"
    )
    namespace = fresh(CREDS)
    create_namespace(env.api, namespace)
    create_pull_secret(
        env.api, namespace, "regcred", token_registry.host, TOKEN_USER, TOKEN_PASSWORD
    )
    create_pod(env.api, namespace, "with-secret", private, pull_secrets=("regcred",))
    create_pod(env.api, namespace, "without", private)
    operator = start_operator(
        env.cluster, config, env.workdir, "creds", "--lease-name", "slimgate-creds"
    )
    try:
        body = wait_report(
            env.api,
            namespace,
            lambda b: len({r["resources"][0]["name"] for r in b["results"]}) == 2,
        )
    finally:
        operator.stop()
        print(operator.log_text()[-4000:])
    results = results_by(body)
    toolchain = results[("Pod", "with-secret", "toolchain-base")]
    assert toolchain["result"] == "fail"
    assert toolchain["properties"]["digest"].startswith("sha256:")
    error = results[("Pod", "without", "registry-error")]
    assert error["result"] == "error"
    assert "regcred" not in json.dumps(body)  # names of secrets, let alone contents, stay out
