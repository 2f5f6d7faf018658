"""The shared store, with a real redis-server and real registries.

Clients in one process stand for replicas here: each has its own local caches, and they
share only the store. (tests/integration/webhook/test_shared_replicas.py runs them as
separate ``slimgate serve`` processes.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from slimgate.errors import NotFound, RateLimited
from slimgate.model import Platform
from slimgate.registry import CacheOptions, RegistryClient, RegistryOptions
from slimgate.registry.counters import Counters
from slimgate.registry.options import SharedCacheOptions
from tests.support.faults import FaultServer, Reply
from tests.support.images import ImageSpec, build_image, push
from tests.support.redis_server import RedisServer, start_redis
from tests.support.registry_server import RegistryServer

pytestmark = pytest.mark.registry

PLATFORM = Platform()


def shared_options(redis: RedisServer, **cache: float) -> RegistryOptions:
    return RegistryOptions(
        insecure={"127.0.0.1"},
        allow_private={"127.0.0.1"},
        cache=CacheOptions(**cache),  # type: ignore[arg-type]
        shared=SharedCacheOptions(
            url=redis.url,
            secret_file=str(redis.install_secret),
            password_file=str(redis.password_file),
            timeout_seconds=0.2,
            retry_seconds=30,
        ),
    )


@pytest.fixture
def replicas(redis_server: RedisServer) -> Iterator[list[RegistryClient]]:
    """Three clients that share the store and nothing else."""
    options = shared_options(redis_server)
    clients = [RegistryClient.from_options(options, observer=Counters()) for _ in range(3)]
    yield clients
    for client in clients:
        client.close()


def requests(clients: list[RegistryClient], method: str) -> int:
    return sum(c.counters.requests(method=method) for c in clients)


def test_replicas_fetch_a_new_image_once_between_them(
    plain_registry: RegistryServer, replicas: list[RegistryClient]
) -> None:
    push(plain_registry.url, "shared/once", "1", build_image(ImageSpec(env=["ONCE=1"])))
    reference = f"{plain_registry.host}/shared/once:1"
    start = threading.Barrier(3)

    def lookup(client: RegistryClient) -> str | None:
        start.wait(timeout=30)
        return client.fetch(reference, PLATFORM).digest

    with ThreadPoolExecutor(max_workers=3) as pool:
        digests = {f.result(timeout=60) for f in [pool.submit(lookup, c) for c in replicas]}
    assert len(digests) == 1
    assert requests(replicas, "HEAD") == 1
    assert requests(replicas, "GET") == 2  # the manifest and the config, once


def test_a_new_replica_answers_a_known_image_without_the_registry(
    plain_registry: RegistryServer, redis_server: RedisServer
) -> None:
    push(plain_registry.url, "shared/known", "1", build_image(ImageSpec(env=["KNOWN=1"])))
    reference = f"{plain_registry.host}/shared/known:1"
    options = shared_options(redis_server)
    with RegistryClient.from_options(options, observer=Counters()) as first:
        expected = first.fetch(reference, PLATFORM)
    with RegistryClient.from_options(options, observer=Counters()) as restarted:
        assert restarted.fetch(reference, PLATFORM) == expected
        assert restarted.counters.requests() == 0
        assert restarted.counters.shared_events("hit") == 3  # the tag, manifest and config


def test_a_forged_document_in_the_store_is_refused_deleted_and_fetched_again(
    plain_registry: RegistryServer, redis_server: RedisServer
) -> None:
    push(plain_registry.url, "shared/forged", "1", build_image(ImageSpec(env=["FORGED=1"])))
    reference = f"{plain_registry.host}/shared/forged:1"
    options = shared_options(redis_server)
    with RegistryClient.from_options(options, observer=Counters()) as first:
        genuine = first.fetch(reference, PLATFORM)
    store = redis_server.client()
    key = f"slimgate:blob:{genuine.config_digest}".encode()
    assert store.exists(key)
    forged = b'{"architecture":"amd64","os":"linux","config":{"Env":["FORGED=0"]}}'
    store.set(key, b"config\n" + forged)
    with RegistryClient.from_options(options, observer=Counters()) as second:
        found = second.fetch(reference, PLATFORM)
        assert found.config.env == genuine.config.env
        assert second.counters.shared_events("forged") == 1
        assert second.counters.requests(method="GET") == 1  # the config, fetched again
    assert store.get(key) != b"config\n" + forged  # deleted, then written back genuine
    store.close()


def test_tag_keys_reveal_neither_the_tag_nor_the_login(
    plain_registry: RegistryServer, replicas: list[RegistryClient], redis_server: RedisServer
) -> None:
    push(plain_registry.url, "shared/keys", "visible-tag", build_image(ImageSpec()))
    replicas[0].fetch(f"{plain_registry.host}/shared/keys:visible-tag", PLATFORM)
    store = redis_server.client()
    keys = [k.decode() for k in store.keys("*")]
    store.close()
    assert any(k.startswith("slimgate:tag:") for k in keys)
    assert not [k for k in keys if "visible-tag" in k or "anonymous" in k or "shared/keys" in k]


def test_a_store_killed_under_load_costs_no_lookup_and_logs_once(
    plain_registry: RegistryServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    push(plain_registry.url, "shared/killed", "1", build_image(ImageSpec(env=["KILLED=1"])))
    images = []
    for n in range(6):
        push(plain_registry.url, "shared/killed", f"v{n}", build_image(ImageSpec(env=[f"K={n}"])))
        images.append(f"{plain_registry.host}/shared/killed:v{n}")
    redis = start_redis(tmp_path / "redis")
    try:
        options = shared_options(redis)
        with RegistryClient.from_options(options, observer=Counters()) as client:
            client.fetch(images[0], PLATFORM)
            assert client.counters.shared_events("write") > 0
            redis.kill()
            with caplog.at_level("WARNING", logger="slimgate.registry.shared"):
                started = time.monotonic()
                found = [client.fetch(image, PLATFORM) for image in images[1:]]
                seconds = time.monotonic() - started
            assert all(f.digest for f in found)
            assert client.counters.shared_events("down") == 1
            assert client.counters.shared_events("error") == 1  # then the breaker is open
            down = [r for r in caplog.records if "using the local cache only" in r.message]
            assert len(down) == 1
            assert redis.password not in caplog.text
            assert seconds < 5  # five lookups against a plain local registry
    finally:
        redis.stop()


def serve_rate_limited(fault: FaultServer, retry_after: str = "30") -> None:
    limited = Reply(
        429,
        b'{"errors":[{"code":"TOOMANYREQUESTS"}]}',
        {
            "Retry-After": retry_after,
            "RateLimit-Limit": "100;w=21600",
            "RateLimit-Remaining": "0;w=21600",
        },
    )
    fault.default = limited
    fault.route("HEAD", "/v2/app/manifests/1", limited)


def test_a_429_pauses_the_registry_for_every_replica(
    fault_server: FaultServer, replicas: list[RegistryClient]
) -> None:
    serve_rate_limited(fault_server)
    reference = f"{fault_server.host}/app:1"
    with pytest.raises(RateLimited, match="retry after 30 s"):
        replicas[0].fetch(reference, PLATFORM)
    asked = len(fault_server.seen)
    assert replicas[0].counters.rate_limits[fault_server.host] == (100, 0)
    with pytest.raises(RateLimited, match=r"paused for (29|30) s more"):
        replicas[1].fetch(f"{fault_server.host}/other:2", PLATFORM)
    assert len(fault_server.seen) == asked  # the second replica sent nothing


def test_a_known_tag_is_used_stale_while_paused_for_a_bounded_grace(
    fault_server: FaultServer, redis_server: RedisServer
) -> None:
    built = build_image(ImageSpec(env=["STALE=1"]))
    fault_server.serve("app", "1", built)
    reference = f"{fault_server.host}/app:1"
    options = shared_options(redis_server, tag_ttl_seconds=1, stale_grace_seconds=2)
    with RegistryClient.from_options(options, observer=Counters()) as first:
        fresh = first.fetch(reference, PLATFORM)
        assert fresh.notes == ()
    time.sleep(1.2)  # past the tag's TTL, within its grace
    serve_rate_limited(fault_server, retry_after="60")
    with RegistryClient.from_options(options, observer=Counters()) as second:
        stale = second.fetch(reference, PLATFORM)
        assert stale.digest == fresh.digest
        assert len(stale.notes) == 1
        assert stale.notes[0].startswith("tag 1 resolved 1 s ago, not refreshed: ")
        assert "rate limited" in stale.notes[0]
    time.sleep(2)  # past the grace: the store let the answer expire
    with (
        RegistryClient.from_options(options, observer=Counters()) as third,
        pytest.raises(RateLimited, match="paused"),
    ):
        third.fetch(reference, PLATFORM)


def test_a_warm_lookup_never_asks_the_store(
    plain_registry: RegistryServer, replicas: list[RegistryClient], redis_server: RedisServer
) -> None:
    push(plain_registry.url, "shared/warm", "1", build_image(ImageSpec(env=["WARM=1"])))
    client = replicas[0]
    tagged = f"{plain_registry.host}/shared/warm:1"
    pinned = f"{plain_registry.host}/shared/warm@{client.fetch(tagged, PLATFORM).digest}"
    client.fetch(pinned, PLATFORM)
    store = redis_server.client()
    before = int(store.info("stats")["total_commands_processed"])
    for _ in range(50):
        client.fetch(tagged, PLATFORM)
        client.fetch(pinned, PLATFORM)
    after = int(store.info("stats")["total_commands_processed"])
    store.close()
    assert after - before == 1  # the INFO that read ``before``


def test_a_failure_is_remembered_for_every_replica(
    plain_registry: RegistryServer, replicas: list[RegistryClient]
) -> None:
    reference = f"{plain_registry.host}/shared/missing:1"
    with pytest.raises(NotFound):
        replicas[0].fetch(reference, PLATFORM)
    with pytest.raises(NotFound, match="not found"):
        replicas[1].fetch(reference, PLATFORM)
    assert replicas[1].counters.requests() == 0
