"""Request economy against a real registry, proven with the client's counters.

A tag costs one HEAD; manifests and the config are fetched once, by digest, and then come
from the cache; concurrent lookups share their requests.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from slimgate.errors import NotFound
from slimgate.model import Platform
from slimgate.registry import CacheOptions, RegistryClient, RegistryOptions
from tests.support.fixtures import ManualClock
from tests.support.images import ImageSpec, build_image, build_index, push
from tests.support.registry_server import RegistryServer

pytestmark = pytest.mark.registry

TAG_TTL = 60.0


def test_fifty_concurrent_lookups_share_one_set_of_requests(
    plain_registry: RegistryServer,
) -> None:
    index = build_index(
        [
            build_image(ImageSpec(env=["ECONOMY=1"])),
            build_image(ImageSpec(env=["ECONOMY=1"], architecture="arm64")),
        ]
    )
    push(plain_registry.url, "economy/app", "fresh", index)
    clock = ManualClock()
    options = RegistryOptions(
        insecure={plain_registry.host}, cache=CacheOptions(tag_ttl_seconds=TAG_TTL)
    )
    reference = f"{plain_registry.host}/economy/app:fresh"
    with RegistryClient(options, clock=clock) as client:
        counters = client.counters
        start = threading.Barrier(50)

        def lookup() -> str | None:
            start.wait(timeout=30)
            return client.fetch(reference, Platform()).digest

        with ThreadPoolExecutor(max_workers=50) as pool:
            digests = {f.result(timeout=60) for f in [pool.submit(lookup) for _ in range(50)]}
        assert digests == {index.images[0].digest}
        assert counters.requests(method="HEAD") == 1
        assert counters.requests(method="GET") == 3  # index, platform manifest, config
        assert counters.requests(status=200) == 4

        counters.reset()
        clock.advance(TAG_TTL - 1)
        client.fetch(reference, Platform())
        assert counters.requests() == 0
        assert counters.hits("tag") == 1

        counters.reset()
        clock.advance(1)
        client.fetch(reference, Platform())
        assert counters.requests(method="HEAD") == 1
        assert counters.requests(method="GET") == 0
        assert counters.hits("manifest") == 2
        assert counters.hits("config") == 1


def test_a_second_platform_of_a_cached_index_costs_only_its_own_documents(
    plain_registry: RegistryServer,
) -> None:
    index = build_index(
        [
            build_image(ImageSpec(env=["P=1"])),
            build_image(ImageSpec(env=["P=2"], architecture="arm64")),
        ]
    )
    push(plain_registry.url, "economy/multi", "1", index)
    with RegistryClient(RegistryOptions(insecure={plain_registry.host})) as client:
        client.fetch(f"{plain_registry.host}/economy/multi:1", Platform("linux", "amd64"))
        client.counters.reset()
        client.fetch(f"{plain_registry.host}/economy/multi:1", Platform("linux", "arm64"))
        assert client.counters.requests(method="HEAD") == 0
        assert client.counters.requests(method="GET") == 2  # arm64 manifest and its config


def test_failures_are_remembered_for_the_negative_ttl(plain_registry: RegistryServer) -> None:
    clock = ManualClock()
    options = RegistryOptions(
        insecure={plain_registry.host}, cache=CacheOptions(negative_ttl_seconds=10)
    )
    with RegistryClient(options, clock=clock) as client:
        for _ in range(3):
            with pytest.raises(NotFound, match="not found"):
                client.fetch(f"{plain_registry.host}/economy/missing:1")
        assert client.counters.requests() == 1
        assert client.counters.hits("negative") == 2
        clock.advance(10)
        with pytest.raises(NotFound, match="not found"):
            client.fetch(f"{plain_registry.host}/economy/missing:1")
        assert client.counters.requests() == 2
