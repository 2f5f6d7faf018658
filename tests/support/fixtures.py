"""Pytest fixtures shared by the whole suite (registered from tests/conftest.py).

Registries are real: Debian's ``docker-registry`` (distribution 2.8) started once per
session on free 127.0.0.1 ports, one per auth mode, and stopped at the end. Tests that use
them carry ``@pytest.mark.registry``; without the binary they are skipped.

- ``plain_registry``: anonymous, plain HTTP
- ``basic_registry``: htpasswd basic auth (``BASIC_USER``/``BASIC_PASSWORD``), plain HTTP
- ``token_registry``: bearer tokens from a test token service, both over TLS; users
  ``TOKEN_USER``/``TOKEN_PASSWORD``; anonymous pull on ``public/*`` repositories listed in
  ``ANONYMOUS_REPOSITORIES``
- ``tls_registry``: anonymous over TLS with a test CA (``tls_registry.ca_path``)
- ``fault_server`` / ``other_fault_server``: :class:`tests.support.faults.FaultServer` on
  127.0.0.1 and 127.0.0.2, new for each test
- ``test_ca`` / ``test_ca_path``: the CA of every test certificate, and its PEM file
- ``moto``: moto's server as a local AWS API (:mod:`tests.support.aws`)
- ``redis_server``: Debian's ``redis-server`` with a password, emptied for each test (the
  shared store of ``registry.sharedCache``); ``logged_registry``: an anonymous plain-HTTP
  registry that writes an access log (:meth:`RegistryServer.accesses`)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support import aws, registry_server
from tests.support import redis_server as redis_support
from tests.support.aws import MotoServer
from tests.support.faults import FaultServer
from tests.support.redis_server import RedisServer, start_redis
from tests.support.registry_server import RegistryServer, start_registry
from tests.support.token_server import TokenServer

BASIC_USER, BASIC_PASSWORD = "alice", "alice-basic-s3cret"
TOKEN_USER, TOKEN_PASSWORD = "bob", "bob-token-s3cret"
ANONYMOUS_REPOSITORIES = frozenset({"public/app"})


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _registry(workdir: Path, **options: Any) -> Iterator[RegistryServer]:
    """A registry for the session (:func:`start_registry` with ``options``), stopped at its
    end; the tests that need one are skipped without the binary."""
    if not registry_server.available():
        pytest.skip(f"{registry_server.BINARY} is not installed")
    server = start_registry(workdir, **options)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def registry_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("registries")


@pytest.fixture(scope="session")
def plain_registry(registry_root: Path) -> Iterator[RegistryServer]:
    yield from _registry(registry_root / "plain")


@pytest.fixture(scope="session")
def basic_registry(registry_root: Path) -> Iterator[RegistryServer]:
    yield from _registry(registry_root / "basic", htpasswd=(BASIC_USER, BASIC_PASSWORD))


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def test_ca_path(test_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test CA as a PEM file, for ``registry.caBundle``."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def token_registry(registry_root: Path, test_ca: trustme.CA) -> Iterator[RegistryServer]:
    tokens = TokenServer(
        signing_ca=trustme.CA(),
        users={TOKEN_USER: TOKEN_PASSWORD},
        anonymous_pull=set(ANONYMOUS_REPOSITORIES),
        tls=test_ca.issue_cert("127.0.0.1"),
    ).start()
    try:
        yield from _registry(registry_root / "token", token=tokens, tls_ca=test_ca)
    finally:
        tokens.stop()


@pytest.fixture(scope="session")
def tls_registry(registry_root: Path, test_ca: trustme.CA) -> Iterator[RegistryServer]:
    yield from _registry(registry_root / "tls", tls_ca=test_ca)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    with FaultServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def other_fault_server() -> Iterator[FaultServer]:
    """A second server on 127.0.0.2: another host as far as the client can tell."""
    with FaultServer("127.0.0.2") as server:
        yield server


@pytest.fixture(scope="session")
def logged_registry(registry_root: Path) -> Iterator[RegistryServer]:
    yield from _registry(registry_root / "logged", access_log=True)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = aws.start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if not redis_support.available():
        pytest.skip(f"{redis_support.BINARY} is not installed")
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_server(redis_session: RedisServer) -> RedisServer:
    """The session's redis-server, empty; a test that killed it gets a new one next time."""
    if redis_session.process.poll() is not None:
        pytest.fail("redis-server is not running (a test killed the shared one)")
    client = redis_session.client()
    client.flushall()
    client.close()
    return redis_session
