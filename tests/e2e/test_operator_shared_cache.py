"""The audit operator as its own process, sharing a redis-server with a webhook process and
``slimgate check``, against a real kube-apiserver and a real registry.

What the registry served is counted in its own access log; what the operator asked for, in
its ``/metrics``. An image a webhook or ``slimgate check`` fetched costs the operator no
registry read, an image the operator fetched costs the webhook and ``check`` none, and an
operator started again (a rollout) audits every namespace from the store alone. Every
PolicyReport is written as without the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import trustme

from slimgate.cluster.api import Json, KubeApi
from tests.integration.audit.scenario import (
    GOLANG_APP,
    SMALL_APP,
    create_chain,
    create_namespace,
    create_pod,
)
from tests.integration.cli.command import slimgate
from tests.support import admission
from tests.support.chart import Helm
from tests.support.images import ImageSpec, build_image, push
from tests.support.names import fresh
from tests.support.redis_server import RedisServer, start_redis
from tests.support.registry_server import RegistryServer
from tests.support.served import ServedWebhook
from tests.support.tls import write_serving

from .admission_setup import eventually
from .cluster import KubeCluster
from .helm import install_report_crds
from .test_operator import (
    LEASE_NAMESPACE,
    PR,
    Operator,
    holder,
    results_by,
    start_operator,
    wait_report,
)

pytestmark = [pytest.mark.e2e, pytest.mark.registry]

PREFIX = "store"  # the namespaces (and repositories) of this module; the operator's only
SETTINGS = f"""\
policy:
  thresholds: {{layerMegabytes: 1, imageMegabytes: 1000}}
operator:
  namespaces: ['{PREFIX}-*']
webhook:
  timeoutSeconds: 10
"""


@dataclass
class Shared:
    cluster: KubeCluster
    api: KubeApi
    registry: RegistryServer
    store: RedisServer
    config: Path
    workdir: Path
    webhook: ServedWebhook
    operator: Operator
    namespaces: list[str] = field(default_factory=list)  # every one this module made

    def image(self, spec: ImageSpec) -> tuple[str, str]:
        """A new image, unknown to every cache: its reference and its repository."""
        repository = f"{fresh(PREFIX)}/app"
        push(self.registry.url, repository, "1", build_image(spec))
        return f"{self.registry.host}/{repository}:1", repository

    def namespace(self) -> str:
        name = fresh(PREFIX)
        create_namespace(self.api, name)
        self.namespaces.append(name)
        return name

    def check(self, image: str, denied: bool) -> None:
        """``slimgate check`` of ``image``, a process of its own on the same store."""
        checked = slimgate("check", "--config", self.config, image)
        assert checked.returncode == (1 if denied else 0), checked.stdout + checked.stderr

    def review(self, image: str, denied: bool) -> None:
        """The webhook's review of a pod of ``image``: denied for its toolchain or allowed."""
        response = self.webhook.review(admission.review(admission.pod([image])))
        assert response["allowed"] is not denied, response
        if denied:
            assert "toolchain-base" in response["status"]["message"], response


def start_leader(cluster: KubeCluster, config: Path, workdir: Path, identity: str) -> Operator:
    """An operator on ``config``, leading a lease of its own at once."""
    operator = start_operator(
        cluster, config, workdir, identity, "--lease-name", f"slimgate-{identity}"
    )
    api = KubeApi(cluster.api_client())

    def leads() -> bool:
        if operator.process.poll() is not None:
            raise AssertionError(f"the operator exited:\n{operator.log_text()}")
        return holder(api, f"slimgate-{identity}") == identity

    try:
        eventually(leads, what=f"operator {identity} to take its lease", timeout=60.0)
    except BaseException:
        operator.stop()
        raise
    return operator


@pytest.fixture(scope="module")
def shared(
    kube_cluster: KubeCluster,
    helm: Helm,
    logged_registry: RegistryServer,
    test_ca: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Shared]:
    workdir = tmp_path_factory.mktemp("operator-shared-cache")
    api = KubeApi(kube_cluster.api_client())
    install_report_crds(kube_cluster, helm)
    create_namespace(api, LEASE_NAMESPACE)
    store = start_redis(workdir / "redis")
    config = workdir / "config.yaml"
    config.write_text(store.registry_config(quick=True) + SETTINGS)
    ca, cert, key = write_serving(test_ca, workdir)
    webhook: ServedWebhook | None = None
    operator: Operator | None = None
    try:
        webhook = ServedWebhook(workdir, config, cert, key, ca)
        operator = start_leader(kube_cluster, config, workdir, "shared-first")
        yield Shared(kube_cluster, api, logged_registry, store, config, workdir, webhook, operator)
    finally:
        if operator is not None:
            operator.stop()
            print(operator.log_text()[-4000:])
        if webhook is not None:
            webhook.stop()
        store.stop()


def workloads(report: Json) -> set[str]:
    return {r["resources"][0]["name"] for r in report["results"]}


def named(count: int) -> Callable[[Json], bool]:
    """A report with results for ``count`` workloads."""
    return lambda body: len(workloads(body)) == count


def one_fetch_set(reads: list[str]) -> bool:
    """A HEAD for the tag, a GET for the manifest and one for the config, all answered."""
    methods = sorted(line.split(" ")[0] for line in reads)
    return methods == ["GET", "GET", "HEAD"] and all(line.endswith(" 200") for line in reads)


def test_the_operator_audits_images_a_webhook_and_check_fetched_without_a_registry_read(
    shared: Shared,
) -> None:
    toolchain, toolchain_repo = shared.image(replace(GOLANG_APP, labels={"warmed": "webhook"}))
    small, small_repo = shared.image(replace(SMALL_APP, labels={"warmed": "check"}))
    shared.review(toolchain, denied=True)  # a webhook replica judges a pod of it
    shared.check(small, denied=False)  # and slimgate check the other
    warmed = {repo: shared.registry.reads(repo) for repo in (toolchain_repo, small_repo)}
    assert all(one_fetch_set(reads) for reads in warmed.values()), warmed
    operator, requests = shared.operator, "slimgate_registry_requests_total"
    hits = 'slimgate_shared_cache_events_total{event="hit"}'
    requests_before, hits_before = operator.metric(requests), operator.metric(hits)

    namespace = shared.namespace()
    create_chain(shared.api, namespace, "web", toolchain, replicas=2)
    create_pod(shared.api, namespace, "tool", small)
    report = wait_report(shared.api, namespace, named(2))

    results = results_by(report)
    web = results[("Deployment", "web", "toolchain-base")]
    assert web["result"] == "fail"
    assert web["properties"]["image"] == toolchain
    assert web["properties"]["digest"].startswith("sha256:")
    assert results[("Pod", "tool", "toolchain-base")]["result"] == "pass"
    for repo, reads in warmed.items():
        assert shared.registry.reads(repo) == reads, repo  # the registry saw nothing more
    assert operator.metric(requests) == requests_before == 0
    # per image: its tag, its manifest and its config, each read from the store
    assert operator.metric(hits) - hits_before >= 6
    assert operator.metric("slimgate_shared_cache_up") == 1


def test_an_image_the_operator_fetched_costs_the_webhook_and_check_no_registry_read(
    shared: Shared,
) -> None:
    image, repo = shared.image(replace(GOLANG_APP, labels={"warmed": "operator"}))
    before = shared.operator.metric("slimgate_registry_requests_total")
    namespace = shared.namespace()
    create_pod(shared.api, namespace, "first", image)
    report = wait_report(shared.api, namespace, named(1))
    assert results_by(report)[("Pod", "first", "toolchain-base")]["result"] == "fail"
    fetched = shared.registry.reads(repo)
    assert one_fetch_set(fetched), fetched
    assert shared.operator.metric("slimgate_registry_requests_total") - before == 3

    shared.review(image, denied=True)
    shared.check(image, denied=True)
    assert shared.registry.reads(repo) == fetched


def test_an_operator_started_again_audits_every_namespace_from_the_store_alone(
    shared: Shared,
) -> None:
    image, repo = shared.image(replace(SMALL_APP, labels={"warmed": "rollout"}))
    namespace = shared.namespace()
    create_pod(shared.api, namespace, "kept", image)
    wait_report(shared.api, namespace, named(1))
    fetched = shared.registry.reads(repo)
    assert one_fetch_set(fetched), fetched
    written = {}
    for each in shared.namespaces:  # this one, and those of the tests before
        report = shared.api.get(*PR, each, "slimgate")
        assert report is not None
        written[each] = report
    shared.operator.stop()
    for each in written:  # so that every report is the next operator's
        shared.api.delete(*PR, each, "slimgate")

    restarted = start_leader(shared.cluster, shared.config, shared.workdir, "shared-second")
    try:
        again = {
            each: wait_report(shared.api, each, named(len(workloads(before))))
            for each, before in written.items()
        }
        for each, before in written.items():
            assert again[each]["summary"] == before["summary"], each
        kept = results_by(again[namespace])[("Pod", "kept", "toolchain-base")]
        assert kept["result"] == "pass"
        assert restarted.metric("slimgate_registry_requests_total") == 0
        assert shared.registry.reads(repo) == fetched
        for process in (restarted, shared.operator):
            assert shared.store.password not in process.log_text()
        assert shared.store.password not in shared.webhook.log_text()
    finally:
        restarted.stop()
        print(restarted.log_text()[-3000:])
