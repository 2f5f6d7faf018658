"""The address policy: which hosts and addresses may be contacted."""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpcore
import pytest

from slimgate.errors import Blocked, RegistryUnavailable
from slimgate.registry.addresses import (
    AddressPolicy,
    BoundedResolution,
    metadata_address,
    private_reason,
)
from slimgate.registry.options import RegistryOptions
from slimgate.registry.transport import GuardedBackend


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.1.2.3",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses_are_classified(address: str) -> None:
    assert private_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:84e5", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert private_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200"]
)
def test_metadata_endpoints_are_recognised(address: str) -> None:
    assert metadata_address(ipaddress.ip_address(address))


def _policy(resolved: list[str], **options: object) -> AddressPolicy:
    return AddressPolicy(RegistryOptions(**options), resolver=lambda host, port: resolved)  # type: ignore[arg-type]


def test_a_name_resolving_to_loopback_is_blocked() -> None:
    with pytest.raises(Blocked, match=r"evil\.example:443 resolves to 127\.0\.0\.1, a loopback"):
        _policy(["127.0.0.1"]).addresses("evil.example", 443)


def test_one_bad_address_among_good_ones_blocks_the_host() -> None:
    with pytest.raises(Blocked):
        _policy(["93.184.216.34", "::ffff:10.0.0.1"]).addresses("mixed.example", 443)


def test_literal_addresses_are_checked_without_resolving() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("resolver called for a literal")

    policy = AddressPolicy(RegistryOptions(), resolver=resolver)
    for host in ("169.254.169.254", "::ffff:127.0.0.1", "127.0.0.2"):
        with pytest.raises(Blocked):
            policy.addresses(host, 80)


def test_allow_private_and_insecure_permit_loopback_for_that_host_only() -> None:
    policy = _policy(["127.0.0.1"], allow_private={"registry.local:5000"}, insecure={"dev.local"})
    assert policy.addresses("registry.local", 5000) == [("127.0.0.1", 5000)]
    assert policy.addresses("dev.local", 8080) == [("127.0.0.1", 8080)]  # no port listed: any
    with pytest.raises(Blocked):
        policy.addresses("registry.local", 5001)
    with pytest.raises(Blocked):
        policy.addresses("other.local", 5000)


def test_metadata_addresses_are_refused_even_when_private_is_allowed() -> None:
    policy = _policy(["169.254.169.254"], allow_private={"meta.local"})
    with pytest.raises(Blocked, match="metadata"):
        policy.addresses("meta.local", 80)


def test_resolution_failure_is_unavailable_not_blocked() -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(RegistryUnavailable, match="Name or service not known"):
        AddressPolicy(RegistryOptions(), resolver=resolver).addresses("nowhere.example", 443)


def test_deny_list_blocks_and_allow_list_restricts_registries() -> None:
    policy = AddressPolicy(RegistryOptions(deny={"evil.example"}))
    with pytest.raises(Blocked, match="deny list"):
        policy.check_registry("evil.example")
    policy.check_registry("ghcr.io")
    allow = AddressPolicy(RegistryOptions(allow={"index.docker.io", "ghcr.io"}))
    allow.check_registry("docker.io")
    allow.check_registry("ghcr.io")
    with pytest.raises(Blocked, match="allow list"):
        allow.check_registry("quay.io")
    with pytest.raises(Blocked):
        allow.check_registry("ghcr.io.evil.example")


def test_a_resolver_that_hangs_is_given_up_on_after_the_timeout() -> None:
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(30)
        return ["93.184.216.34"]

    policy = AddressPolicy(RegistryOptions(), resolver=hanging)
    started = time.monotonic()
    try:
        with pytest.raises(RegistryUnavailable, match=r"no answer within 0\.2 s"):
            policy.addresses("slow-dns.example", 443, timeout=0.2)
        assert time.monotonic() - started < 2
    finally:
        release.set()


def test_lookups_hung_behind_a_dead_dns_server_are_capped() -> None:
    release = threading.Event()
    answered = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(30)
        answered.set()
        return ["93.184.216.34"]

    resolve = BoundedResolution(hanging, limit=2)
    try:
        for _ in range(2):
            with pytest.raises(OSError, match="no answer"):
                resolve("slow-dns.example", 443, 0.05)
        started = time.monotonic()
        with pytest.raises(OSError, match=r"2 lookups still pending after 0\.2 s"):
            resolve("slow-dns.example", 443, 0.2)
        assert time.monotonic() - started < 2
    finally:
        release.set()
    assert answered.wait(5)
    # the hung lookups finish and give their slots back
    assert resolve("slow-dns.example", 443, 5) == ["93.184.216.34"]


def test_a_burst_of_healthy_lookups_queues_for_slots_instead_of_failing() -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(0.05)
        return ["93.184.216.34"]

    resolve = BoundedResolution(slow, limit=8)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: resolve(f"r{i}.example", 443, 5), range(16)))
    assert answers == [["93.184.216.34"]] * 16


def test_a_resolver_error_reaches_the_caller_from_the_lookup_thread() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(RegistryUnavailable, match="Name or service not known"):
        AddressPolicy(RegistryOptions(), resolver=failing).addresses("x.example", 443, timeout=5)


def test_name_resolution_and_every_address_tried_share_one_connect_budget() -> None:
    """Three silent addresses after a slow lookup still cost no more than the timeout."""

    def slow(host: str, port: int) -> list[str]:
        time.sleep(0.2)
        return ["93.184.216.34", "93.184.216.35", "93.184.216.36"]

    given: list[float] = []

    class Silent(httpcore.NetworkBackend):
        def connect_tcp(self, host: str, port: int, timeout: float | None = None, **kw: Any) -> Any:
            assert timeout is not None
            given.append(timeout)
            time.sleep(min(timeout, 0.2))
            raise httpcore.ConnectTimeout("silent")

    backend = GuardedBackend(AddressPolicy(RegistryOptions(), resolver=slow), inner=Silent())
    started = time.monotonic()
    with pytest.raises(httpcore.ConnectTimeout):
        backend.connect_tcp("silent.example", 443, timeout=0.5)
    assert time.monotonic() - started < 0.8
    assert given
    assert given[0] <= 0.31  # what the lookup left, not the whole timeout
    assert all(later < earlier for earlier, later in itertools.pairwise(given))
