"""Mirrors with fallback, and the address policy on real connections."""

from __future__ import annotations

import threading
import time

import pytest

from slimgate.errors import Blocked, RegistryUnavailable
from slimgate.registry import Credential, CredentialStore, RegistryClient, RegistryOptions
from slimgate.registry.options import Limits
from tests.support.faults import FaultServer, Reply
from tests.support.images import ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer

IMAGE = build_image(ImageSpec(env=["MIRRORED=1"]))
REPO = "mirrored/app"


@pytest.fixture
def upstream(plain_registry: RegistryServer) -> RegistryServer:
    push(plain_registry.url, REPO, "1", IMAGE)
    return plain_registry


def _options(upstream: RegistryServer, mirror: FaultServer) -> RegistryOptions:
    return RegistryOptions(
        insecure={upstream.host, mirror.host}, mirrors={upstream.host: [mirror.host]}
    )


@pytest.mark.registry
def test_a_working_mirror_answers_and_upstream_is_not_asked(
    upstream: RegistryServer, fault_server: FaultServer
) -> None:
    fault_server.serve(REPO, "1", IMAGE)
    with RegistryClient(_options(upstream, fault_server)) as client:
        meta = client.fetch(f"{upstream.host}/{REPO}:1")
        assert meta.digest == IMAGE.digest
        assert client.counters.requests(host=upstream.host) == 0
        assert client.counters.requests(host=fault_server.host) == 3


@pytest.mark.registry
@pytest.mark.parametrize("failure", [Reply(500), Reply(404), Reply(429)])
def test_a_failing_mirror_falls_back_to_upstream(
    upstream: RegistryServer, fault_server: FaultServer, failure: Reply
) -> None:
    fault_server.route("HEAD", f"/v2/{REPO}/manifests/1", failure)
    with RegistryClient(_options(upstream, fault_server)) as client:
        assert client.fetch(f"{upstream.host}/{REPO}:1").digest == IMAGE.digest
        assert client.counters.requests(host=fault_server.host) == 1
        assert client.counters.requests(host=upstream.host, method="HEAD") == 1


@pytest.mark.registry
def test_a_mirror_gets_its_own_credentials_never_the_upstreams(
    upstream: RegistryServer, fault_server: FaultServer
) -> None:
    fault_server.serve(REPO, "1", IMAGE)
    fault_server.require_authorization('Basic realm="mirror"', "Basic bWlycm9yOm0=")  # mirror:m
    store = CredentialStore(
        {upstream.host: Credential("upstream", "u"), fault_server.host: Credential("mirror", "m")}
    )
    with RegistryClient(_options(upstream, fault_server), credentials=store) as client:
        assert client.fetch(f"{upstream.host}/{REPO}:1").digest == IMAGE.digest
    sent = {seen.headers.get("authorization") for seen in fault_server.seen}
    assert sent == {None, "Basic bWlycm9yOm0="}


def test_a_name_resolving_to_loopback_is_refused_before_connecting(
    fault_server: FaultServer,
) -> None:
    port = fault_server.host.rsplit(":", 1)[1]
    client = RegistryClient(resolver=lambda host, port: ["127.0.0.1"])
    with client, pytest.raises(Blocked, match="loopback"):
        client.fetch(f"registry.example:{port}/team/app:1")
    assert fault_server.seen == []


@pytest.mark.parametrize(
    "reference",
    [
        "169.254.169.254/latest/meta-data:1",
        "[::ffff:a9fe:a9fe]/x:1",  # IPv4-mapped 169.254.169.254 (the grammar wants hex)
        "[::ffff:7f00:1]:5000/x:1",  # IPv4-mapped 127.0.0.1
        "[fd00:ec2::254]/x:1",
        "[::1]:5000/x:1",
        "0.0.0.0:5000/x:1",
        "10.0.0.1/x:1",
    ],
)
def test_literal_private_and_metadata_addresses_are_refused(reference: str) -> None:
    with RegistryClient() as client, pytest.raises(Blocked):
        client.fetch(reference)
    assert client.counters.requests() == 0


def test_the_connection_goes_to_the_checked_address(fault_server: FaultServer) -> None:
    """The name is resolved once, by the policy, and the socket opens to that address."""
    fault_server.serve(REPO, "1", IMAGE)
    port = int(fault_server.host.rsplit(":", 1)[1])
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    name = f"registry.internal.example:{port}"
    options = RegistryOptions(insecure={name})
    with RegistryClient(options, resolver=resolver) as client:
        assert client.fetch(f"{name}/{REPO}:1").digest == IMAGE.digest
    assert calls == ["registry.internal.example"]  # one connection, kept alive
    assert fault_server.seen[0].headers["host"] == name


def test_a_name_that_never_resolves_costs_no_more_than_the_lookup_deadline(
    fault_server: FaultServer,
) -> None:
    """The system resolver can hang for many seconds; the lookup gives up with its deadline."""
    fault_server.serve(REPO, "1", IMAGE)
    port = int(fault_server.host.rsplit(":", 1)[1])
    release = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        release.wait(30)
        return ["127.0.0.1"]

    name = f"dead-dns.example:{port}"
    options = RegistryOptions(insecure={name}, limits=Limits(lookup_seconds=0.5))
    started = time.monotonic()
    try:
        with (
            RegistryClient(options, resolver=hanging) as client,
            pytest.raises(RegistryUnavailable, match=r"cannot resolve dead-dns\.example"),
        ):
            client.fetch(f"{name}/{REPO}:1")
        assert time.monotonic() - started < 3
        assert fault_server.seen == []
    finally:
        release.set()


def test_deny_and_allow_lists_apply_before_any_request() -> None:
    with RegistryClient(RegistryOptions(deny={"ghcr.io"})) as client:
        with pytest.raises(Blocked, match="deny list"):
            client.fetch("ghcr.io/org/app:1")
        assert client.counters.requests() == 0
    allowing = RegistryClient(RegistryOptions(allow={"docker.io"}))
    with allowing, pytest.raises(Blocked, match="allow list"):
        allowing.fetch("quay.io/org/app:1")
