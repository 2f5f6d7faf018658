"""Redirects and token realms to the unspecified, loopback and link-local addresses.

The other forbidden targets (cloud metadata in every spelling, 127.0.0.2 in every
spelling, ``file://``) are cases of ``test_hostile_check``; these add ``0.0.0.0``, ``[::1]``
and link-local addresses, each as a redirect target and as a token realm. Each is refused
by ``slimgate check`` like the hostile cases there (exit 2 naming the address, no
traceback, within the deadline and the memory bound), and nothing listening where the
target points ever sees a connection: Linux connects to ``0.0.0.0`` as to 127.0.0.1, so a
listener there, and one on ``[::1]``, count what arrives. Link-local addresses have no
listener here; a connection attempt to one would run into the deadline, not name the
address.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import trustme

from tests.integration.registry.test_hostile_check import (
    Hostile,
    _assert_refused,
    _redirect_config,
    _run,
)
from tests.support.faults import FaultServer

pytestmark = pytest.mark.registry


class Listener:
    """A listening TCP socket that nobody accepts on: connections queue up to be counted."""

    def __init__(self, address: str) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.socket = socket.create_server((address, 0), family=family, backlog=16)
        self.socket.setblocking(False)
        self.port = int(self.socket.getsockname()[1])

    def connections(self) -> int:
        count = 0
        while True:
            try:
                connection, _ = self.socket.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    def close(self) -> None:
        self.socket.close()


def _listen(address: str) -> Listener:
    try:
        return Listener(address)
    except OSError as exc:  # a machine without IPv6 on loopback
        pytest.skip(f"cannot listen on {address}: {exc}")


# (URL with {port} for the listener's port, where the listener is, the reason to name)
TARGETS = [
    ("https://0.0.0.0:{port}", "127.0.0.1", "0.0.0.0, the unspecified address"),
    ("https://[::1]:{port}", "::1", r"::1, a loopback address"),
    ("https://169.254.1.1", None, r"169\.254\.1\.1, a link-local address"),
    ("https://[fe80::1]", None, "fe80::1, a link-local address"),
]
IDS = ["unspecified", "ipv6-loopback", "link-local", "ipv6-link-local"]


@pytest.fixture
def hostile(
    fault_server: FaultServer,
    other_fault_server: FaultServer,
    test_ca: trustme.CA,
    test_ca_path: Path,
) -> Hostile:
    return Hostile(fault_server, other_fault_server, test_ca, test_ca_path)


@pytest.mark.parametrize(("target", "at", "reason"), TARGETS, ids=IDS)
def test_a_redirect_there_is_refused_without_a_connection(
    hostile: Hostile, tmp_path: Path, target: str, at: str | None, reason: str
) -> None:
    listener = _listen(at) if at is not None else None
    port = listener.port if listener is not None else 443
    try:
        _redirect_config(hostile, target.format(port=port) + "/storage/config")
        run = _run(hostile, tmp_path, [hostile.image])
        assert listener is None or listener.connections() == 0
        _assert_refused(run, hostile.registry, reason)
    finally:
        if listener is not None:
            listener.close()


@pytest.mark.parametrize(("target", "at", "reason"), TARGETS, ids=IDS)
def test_a_token_realm_there_is_refused_without_a_connection(
    hostile: Hostile, tmp_path: Path, target: str, at: str | None, reason: str
) -> None:
    listener = _listen(at) if at is not None else None
    port = listener.port if listener is not None else 443
    try:
        hostile.serve()
        realm = target.format(port=port) + "/token"
        hostile.registry.require_authorization(f'Bearer realm="{realm}"', "Bearer never")
        run = _run(hostile, tmp_path, [hostile.image])
        assert listener is None or listener.connections() == 0
        _assert_refused(run, hostile.registry, reason)
    finally:
        if listener is not None:
            listener.close()
