"""The address policy: which hosts and addresses may be contacted."""

from __future__ import annotations

import ipaddress
import threading
import time

import pytest

from slimgate.errors import Blocked, RegistryUnavailable
from slimgate.registry.addresses import (
    AddressPolicy,
    BoundedResolution,
    metadata_address,
    private_reason,
)
from slimgate.registry.options import RegistryOptions


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
    assert policy.addresses("registry.local", 5000) == ["127.0.0.1"]
    assert policy.addresses("dev.local", 8080) == ["127.0.0.1"]  # no port listed: any port
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


def test_pending_lookups_are_capped_and_their_slots_come_back() -> None:
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
        with pytest.raises(OSError, match="2 lookups are still pending"):
            resolve("slow-dns.example", 443, 5)
    finally:
        release.set()
    assert answered.wait(5)
    deadline = time.monotonic() + 5
    while True:  # the hung lookups finish and give their slots back
        try:
            assert resolve("slow-dns.example", 443, 5) == ["93.184.216.34"]
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_resolver_error_reaches_the_caller_from_the_lookup_thread() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(RegistryUnavailable, match="Name or service not known"):
        AddressPolicy(RegistryOptions(), resolver=failing).addresses("x.example", 443, timeout=5)
