"""Three ``slimgate serve`` processes and ``slimgate check`` sharing one redis-server.

The registry is the real one, with its access log on: what it served is counted there, not
in any counter of ours. A new image reviewed through every replica costs one fetch set; a
restarted replica answers a known image without the registry; a forged document in the
store is refused by its digest and fetched again; a store killed while reviews arrive costs
no error and no denial.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme

from slimgate.audit.owners import OwnedObject
from slimgate.audit.summary import AuditSummary
from slimgate.audit.workloads import ContainerImage, OwnerReference, PodRecord, WorkloadRef
from slimgate.cli.audit import audit_pods
from slimgate.config import load_settings
from slimgate.wiring import build_engines
from tests.integration.cli.command import slimgate
from tests.support import admission
from tests.support.faults import FaultServer, Reply
from tests.support.images import ImageSpec, build_image, push
from tests.support.redis_server import RedisServer, start_redis
from tests.support.registry_server import RegistryServer
from tests.support.served import ServedWebhook
from tests.support.tls import write_serving

pytestmark = pytest.mark.registry


class Trio:
    """Three webhook replicas on one configuration; any can be restarted."""

    def __init__(self, root: Path, config: Path, ca: trustme.CA) -> None:
        self.root, self.config = root, config
        self.ca, self.cert, self.key = write_serving(ca, root, "127.0.0.1", "localhost")
        self.replicas: list[ServedWebhook] = []
        for _ in range(3):
            self.replicas.append(self.start())

    def start(self) -> ServedWebhook:
        return ServedWebhook(self.root, self.config, self.cert, self.key, self.ca)

    def restart(self, index: int) -> ServedWebhook:
        self.replicas[index].stop()
        self.replicas[index] = self.start()
        return self.replicas[index]

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this module's own: the last test kills it."""
    server = start_redis(tmp_path_factory.mktemp("shared-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, store: RedisServer) -> Path:
    root = tmp_path_factory.mktemp("shared-config")
    path = root / "config.yaml"
    path.write_text(store.registry_config(quick=True) + "webhook:\n  timeoutSeconds: 10\n")
    return path


@pytest.fixture(scope="module")
def trio(
    tmp_path_factory: pytest.TempPathFactory, config: Path, test_ca: trustme.CA
) -> Iterator[Trio]:
    replicas = Trio(tmp_path_factory.mktemp("shared-webhooks"), config, test_ca)
    yield replicas
    replicas.stop()


def new_image(registry: RegistryServer, name: str) -> str:
    push(registry.url, f"shared/{name}", "1", build_image(ImageSpec(env=[f"IMAGE={name}"])))
    return f"{registry.host}/shared/{name}:1"


def fetches(registry: RegistryServer, name: str) -> list[str]:
    """The reads of ``shared/<name>`` the registry logged (the push's requests left out)."""
    return registry.reads(f"shared/{name}")


def allowed(replica: ServedWebhook, image: str) -> dict[str, Any]:
    response = replica.review(admission.review(admission.pod([image])))
    assert response["allowed"] is True, response
    return response


def audit_with_shared_engines(config: Path, image: str) -> AuditSummary:
    """What the operator and ``slimgate audit`` run on their pods (the engines they build,
    the audit pipeline), here without an API server: one Deployment of three pods."""
    settings = load_settings(config)
    engines = build_engines(settings, observer=None, lineage="bounded")
    owner = OwnerReference("apps/v1", "ReplicaSet", "web-abc", "uid-rs", True)
    workload = WorkloadRef("default", "ReplicaSet", "web-abc", "apps/v1", "uid-rs")
    pods = [
        PodRecord(
            "default",
            f"web-{n}",
            f"uid-{n}",
            images=(ContainerImage("app", image, "spec.containers[0].image"),),
            owners=(owner,),
            labels={"app": "web"},
            phase="Running",
        )
        for n in range(3)
    ]
    try:
        return audit_pods(
            pods,
            lambda namespace, ref: OwnedObject(workload),
            engines.evaluate_audit(settings.registry.platforms, 10.0),
            generated=datetime.now(UTC),
        )
    finally:
        engines.close()


def test_a_new_image_reviewed_by_every_replica_check_and_audit_costs_one_fetch_set(
    logged_registry: RegistryServer, trio: Trio, config: Path
) -> None:
    image = new_image(logged_registry, "fresh")
    start = threading.Barrier(3)

    def review(replica: ServedWebhook) -> dict[str, Any]:
        start.wait(timeout=30)
        return allowed(replica, image)

    with ThreadPoolExecutor(max_workers=3) as pool:
        for future in [pool.submit(review, r) for r in trio.replicas]:
            future.result(timeout=60)
    checked = slimgate("check", "--config", config, image)
    assert checked.returncode == 0, checked.stderr
    audited = audit_with_shared_engines(config, image)
    assert audited.workloads == 1
    assert not audited.offenders
    served = fetches(logged_registry, "fresh")
    assert sorted(line.split(" ")[0] for line in served) == ["GET", "GET", "HEAD"], served
    assert all(line.endswith(" 200") for line in served), served


def test_a_restarted_replica_answers_a_known_image_without_the_registry(
    logged_registry: RegistryServer, trio: Trio
) -> None:
    image = new_image(logged_registry, "known")
    allowed(trio.replicas[0], image)
    before = len(fetches(logged_registry, "known"))
    restarted = trio.restart(1)
    allowed(restarted, image)
    assert len(fetches(logged_registry, "known")) == before
    assert restarted.metric("slimgate_registry_requests_total") == 0
    assert restarted.metric("slimgate_shared_cache_events_total") >= 3


def test_a_forged_document_is_refused_by_its_digest_and_fetched_again(
    logged_registry: RegistryServer, trio: Trio, store: RedisServer
) -> None:
    image = new_image(logged_registry, "forged")
    allowed(trio.replicas[0], image)
    client = store.client()
    blobs = [k for k in client.keys("slimgate:blob:*") if client.get(k) is not None]
    forged_keys = []
    for key in blobs:
        if client.get(key).startswith(b"config\n"):  # type: ignore[union-attr]
            client.set(key, b'config\n{"config":{"Env":["FORGED=1"]}}')
            forged_keys.append(key)
    client.close()
    assert forged_keys
    before = fetches(logged_registry, "forged")
    restarted = trio.restart(2)
    allowed(restarted, image)
    after = fetches(logged_registry, "forged")[len(before) :]
    assert [line.split(" ")[0] for line in after] == ["GET"], after  # the config, once
    assert "/blobs/sha256:" in after[0]
    forged = restarted.get("/metrics").text
    assert 'slimgate_shared_cache_events_total{event="forged"} 1.0' in forged


def test_the_store_killed_mid_load_costs_no_error_and_no_denial(
    logged_registry: RegistryServer, trio: Trio, store: RedisServer
) -> None:
    images = [new_image(logged_registry, f"load{n}") for n in range(12)]
    answers: list[dict[str, Any]] = []

    def review(n: int) -> dict[str, Any]:
        replica = trio.replicas[(n + n // len(images)) % 3]  # each image on every replica
        return replica.review(admission.review(admission.pod([images[n % len(images)]])))

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(review, n) for n in range(36)]
        futures[6].result(timeout=60)
        store.kill()
        answers = [f.result(timeout=60) for f in futures]
    assert all(a["allowed"] is True for a in answers)
    assert not [a for a in answers if a.get("warnings")]  # no "not checked" warning either
    noticed = 0
    for replica in trio.replicas:
        assert replica.alive()
        down = [line for line in replica.log_text().splitlines() if "local cache only" in line]
        assert len(down) <= 1  # one line per change of state, however many lookups
        noticed += len(down)
        assert replica.metric("slimgate_shared_cache_up") in (0.0, 1.0)
    assert noticed >= 1  # lookups after the kill did meet the dead store


# a tag's TTL and its grace (registry.cache), after the sharedCache block
STALE = "  cache:\n    tagTtlSeconds: 6\n    staleGraceSeconds: 6\nwebhook:\n  timeoutSeconds: 10\n"


def test_a_rate_limited_registry_is_answered_stale_for_a_bounded_grace_and_says_so(
    tmp_path: Path, redis_server: RedisServer, fault_server: FaultServer, test_ca: trustme.CA
) -> None:
    fault_server.serve("app", "1", build_image(ImageSpec(env=["GRACE=1"])))
    image = f"{fault_server.host}/app:1"
    config = tmp_path / "config.yaml"
    config.write_text(redis_server.registry_config() + STALE)
    trio = Trio(tmp_path, config, test_ca)
    try:
        first, second, _ = trio.replicas
        fresh = first.review(admission.review(admission.pod([image], name="a")))
        assert fresh["allowed"] is True
        assert not fresh.get("warnings")
        limited = Reply(
            429, b"{}", {"Retry-After": "120", "RateLimit-Limit": "100", "RateLimit-Remaining": "0"}
        )
        fault_server.route("HEAD", "/v2/app/manifests/1", limited)
        fault_server.route("GET", "/v2/app/manifests/1", limited)
        time.sleep(6.5)  # past the tag's TTL (and the decision memo), within its grace
        stale = second.review(admission.review(admission.pod([image], name="b")))
        assert stale["allowed"] is True
        (line,) = stale["warnings"]
        assert re.fullmatch(
            r"spec\.containers\[0\]\.image: tag 1 resolved [67] s ago, not refreshed: "
            r"127\.0\.0\.1:[0-9]+ is rate limited, paused for 1[0-2][0-9] s more",
            line,
        ), line
        (logged,) = [d for d in second.decisions() if d["name"] == "b"]
        assert "not refreshed" in logged["images"][0]["notes"][0]
        heads = len(fault_server.requests("HEAD"))
        paused = first.review(admission.review(admission.pod([image], name="c")))
        assert paused["allowed"] is True
        assert "not refreshed" in paused["warnings"][0]
        assert len(fault_server.requests("HEAD")) == heads  # the pause is shared
        time.sleep(6)  # past the grace
        expired = second.review(admission.review(admission.pod([image], name="d")))
        assert expired["allowed"] is True  # onRegistryError: warn
        assert "not checked" in expired["warnings"][0]
        assert "rate limited" in expired["warnings"][0]
    finally:
        trio.stop()
