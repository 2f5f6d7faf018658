"""Logging in to the shared store: the password alone (``requirepass``) or an ACL user and
its password, against a real redis-server; a refused login costs no lookup, and no password
reaches a log line or an error message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from slimgate.model import Platform
from slimgate.registry import RegistryClient, RegistryOptions
from slimgate.registry.counters import Counters
from slimgate.registry.options import SharedCacheOptions
from tests.integration.cli.command import slimgate
from tests.support.images import ImageSpec, build_image, push
from tests.support.redis_server import RedisServer, start_redis
from tests.support.registry_server import RegistryServer

pytestmark = pytest.mark.registry

PLATFORM = Platform()
USER = "slimgate"


@pytest.fixture(scope="module")
def acl_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server with a password for its default user and the ACL user ``slimgate``
    (a password of its own, keys under ``slimgate:``, GET, SET and DEL only)."""
    server = start_redis(tmp_path_factory.mktemp("acl-redis"), user=USER)
    yield server
    server.stop()


def options(store: RedisServer, *, username: str | None, password: Path | None) -> RegistryOptions:
    return RegistryOptions(
        insecure={"127.0.0.1"},
        allow_private={"127.0.0.1"},
        shared=SharedCacheOptions(
            url=store.url,
            secret_file=str(store.install_secret),
            username=username,
            password_file=str(password) if password else None,
            timeout_seconds=0.5,
            retry_seconds=30,
        ),
    )


def new_image(registry: RegistryServer, name: str) -> str:
    push(registry.url, f"login/{name}", "1", build_image(ImageSpec(env=[f"LOGIN={name}"])))
    return f"{registry.host}/login/{name}:1"


def logged_in_as(store: RedisServer) -> set[str]:
    """The users of the store's other connections (the admin's own left out)."""
    admin = store.client()
    try:
        mine = admin.client_id()
        return {c["user"] for c in admin.client_list() if int(c["id"]) != mine}
    finally:
        admin.close()


def written_then_read(
    shared: RegistryOptions, image: str, store: RedisServer, *, user: str
) -> None:
    """One client fills the store logged in as ``user``; a second reads all of it back."""
    with RegistryClient.from_options(shared, observer=Counters()) as first:
        expected = first.fetch(image, PLATFORM)
        assert first.counters.shared_events("write") >= 3
        assert logged_in_as(store) == {user}
    with RegistryClient.from_options(shared, observer=Counters()) as second:
        assert second.fetch(image, PLATFORM) == expected
        assert second.counters.requests() == 0  # all of it from the store
        assert second.counters.shared_events("error") == 0


def test_a_store_with_requirepass_is_used_with_the_password_alone(
    plain_registry: RegistryServer, redis_server: RedisServer
) -> None:
    image = new_image(plain_registry, "requirepass")
    shared = options(redis_server, username=None, password=redis_server.password_file)
    written_then_read(shared, image, redis_server, user="default")


def test_an_acl_user_logs_in_with_its_name_and_password_and_needs_only_get_set_del(
    plain_registry: RegistryServer, acl_store: RedisServer
) -> None:
    image = new_image(plain_registry, "acl")
    shared = options(acl_store, username=USER, password=acl_store.user_password_file)
    written_then_read(shared, image, acl_store, user=USER)
    admin = acl_store.client()
    refused = admin.acl_log()  # every command or key the ACL refused
    admin.close()
    assert refused == []


@dataclass(frozen=True)
class Login:
    username: str | None
    password: str | None  # "default", "user", or a wrong one written to a file


LOGINS = {
    "a wrong password": Login(None, "not-the-password-1"),
    "no password": Login(None, None),
    "the user's password without its name": Login(None, "user"),
    "an unknown user": Login("nobody", "user"),
    "the user with a wrong password": Login(USER, "not-the-password-2"),
    "the user with the default user's password": Login(USER, "default"),
}


def password_file(store: RedisServer, tmp_path: Path, login: Login) -> Path | None:
    if login.password is None:
        return None
    if login.password == "default":
        return store.password_file
    if login.password == "user":
        return store.user_password_file
    path = tmp_path / "wrong-password"
    path.write_text(login.password + "\n")
    return path


@pytest.mark.parametrize("login", LOGINS.values(), ids=LOGINS.keys())
def test_a_refused_login_costs_no_lookup_and_no_password_reaches_the_log(
    plain_registry: RegistryServer,
    acl_store: RedisServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    login: Login,
) -> None:
    images = [new_image(plain_registry, f"refused{n}") for n in range(3)]
    shared = options(
        acl_store,
        username=login.username,
        password=password_file(acl_store, tmp_path, login),
    )
    with (
        caplog.at_level(logging.DEBUG),  # every logger, the client library's too
        RegistryClient.from_options(shared, observer=Counters()) as client,
    ):
        found = [client.fetch(image, PLATFORM) for image in images]
        assert all(f.digest.startswith("sha256:") for f in found)
        assert client.counters.shared_events("down") == 1
        assert client.counters.shared_events("error") == 1  # then the store is not asked
    (down,) = [r for r in caplog.records if "using the local cache only" in r.getMessage()]
    assert "AuthenticationError" in down.getMessage()
    assert f"127.0.0.1:{acl_store.port}" in down.getMessage()
    secrets = {acl_store.password, acl_store.user_password}
    if login.password not in (None, "default", "user"):
        secrets.add(login.password)  # the wrong one sent
    for secret in secrets:
        assert secret
        assert secret not in caplog.text


def test_check_with_a_refused_store_login_answers_and_prints_no_password(
    plain_registry: RegistryServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    image = new_image(plain_registry, "check")
    wrong = tmp_path / "password"
    wrong.write_text("a-wrong-store-password\n")
    config = tmp_path / "config.yaml"
    config.write_text(redis_server.registry_config(password=wrong))
    checked = slimgate("check", "--config", config, image)
    assert checked.returncode == 0, checked.stderr
    assert f"shared cache 127.0.0.1:{redis_server.port} failed (GET: AuthenticationError" in (
        checked.stderr
    )
    output = checked.stdout + checked.stderr
    assert "a-wrong-store-password" not in output
    assert redis_server.password not in output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://:{password}@127.0.0.1:{port}/0", "the password in passwordFile, not in the url"),
        ("redis://gate:{password}@127.0.0.1:{port}/0", "the user in username"),
        ("redis://127.0.0.1:{port}/0?password={password}", "the url takes no query"),
    ],
    ids=["password", "user and password", "query"],
)
def test_a_password_in_the_url_is_refused_without_being_repeated(
    redis_server: RedisServer, tmp_path: Path, url: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    url = url.format(password=redis_server.password, port=redis_server.port)
    config.write_text(redis_server.registry_config(url=url))
    checked = slimgate("check", "--config", config, "127.0.0.1:1/any:1")
    assert checked.returncode == 2
    assert message in checked.stderr
    assert redis_server.password not in checked.stdout + checked.stderr
