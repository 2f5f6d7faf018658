"""The guarded transport: httpx's own transport, on a connection pool the policy guards."""

from __future__ import annotations

import ssl
import time

import httpx
import pytest

from slimgate.errors import Blocked
from slimgate.registry.addresses import AddressPolicy
from slimgate.registry.limits import DEADLINE_EXTENSION
from slimgate.registry.options import RegistryOptions
from slimgate.registry.transport import GuardedTransport
from tests.support.faults import FaultServer, Reply


def transport(server: FaultServer, *, private: bool) -> GuardedTransport:
    """A transport that resolves ``registry.test`` to the server's loopback address."""
    authority = f"registry.test:{server.port}"
    options = RegistryOptions(allow_private=frozenset({authority} if private else ()))
    policy = AddressPolicy(options, resolver=lambda host, port: ["127.0.0.1"])
    return GuardedTransport(policy, ssl.create_default_context())


def test_the_pool_connects_through_the_guard() -> None:
    with FaultServer() as server:
        server.route("GET", "/v2/", Reply(200, b"{}"))
        with (
            httpx.Client(transport=transport(server, private=False)) as client,
            pytest.raises(Blocked, match=r"resolves to 127\.0\.0\.1"),
        ):
            client.get(f"http://registry.test:{server.port}/v2/")
        assert server.connections == 0
        with httpx.Client(transport=transport(server, private=True)) as client:
            assert client.get(f"http://registry.test:{server.port}/v2/").content == b"{}"
        assert server.connections == 1


def test_httpcore_errors_reach_the_caller_as_httpx_errors_with_their_request() -> None:
    with FaultServer() as server:
        guarded = transport(server, private=True)
    url = f"http://registry.test:{server.port}/v2/"  # the server has stopped: refused
    with httpx.Client(transport=guarded) as client, pytest.raises(httpx.ConnectError) as caught:
        client.get(url)
    assert str(caught.value.request.url) == url


def test_a_dripped_body_ends_by_the_request_deadline() -> None:
    with FaultServer() as server:
        server.route("GET", "/v2/", Reply(200, b"x" * 100, body_drip=0.05))
        with httpx.Client(transport=transport(server, private=True)) as client:
            started = time.monotonic()
            deadline = started + 0.5
            with pytest.raises(httpx.ReadTimeout):
                client.get(
                    f"http://registry.test:{server.port}/v2/",
                    extensions={DEADLINE_EXTENSION: deadline},
                )
            assert time.monotonic() - started < 1.5


def test_a_renamed_pool_attribute_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def without_pool(self: httpx.HTTPTransport, **kwargs: object) -> None:
        self._connections = None  # type: ignore[attr-defined]

    monkeypatch.setattr(httpx.HTTPTransport, "__init__", without_pool)
    policy = AddressPolicy(RegistryOptions())
    with pytest.raises(TypeError, match="_pool"):
        GuardedTransport(policy, ssl.create_default_context())
