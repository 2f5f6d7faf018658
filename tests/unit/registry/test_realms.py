"""Where a credential may go in the token flow, and challenges that fail being forgotten."""

from __future__ import annotations

import pytest

from slimgate.errors import AuthError, Blocked
from slimgate.registry import CacheOptions, Credential, CredentialStore, RegistryClient
from slimgate.registry.options import RegistryOptions
from tests.support.fixtures import ManualClock
from tests.support.images import build_image
from tests.unit.registry.mock_registry import HOST, MockRegistry, bearer

IMAGE = build_image()
LOGIN = Credential("user", "s3cret")


def _client(
    registry: MockRegistry,
    credentials: dict[str, Credential] | None = None,
    *,
    clock: ManualClock | None = None,
    tag_ttl: float = 60.0,
    **options: object,
) -> RegistryClient:
    cache = CacheOptions(negative_ttl_seconds=0, tag_ttl_seconds=tag_ttl)
    return RegistryClient(
        RegistryOptions(cache=cache, **options),  # type: ignore[arg-type]
        credentials=CredentialStore(credentials or {}),
        clock=clock or ManualClock(),
        transport=registry.transport(),
    )


def _registry(realm: str) -> MockRegistry:
    registry = MockRegistry(challenge=bearer(realm), realm=realm)
    registry.add("team/app", "1", IMAGE)
    registry.add("library/app", "1", IMAGE)
    return registry


def test_a_credential_goes_to_the_registrys_own_realm() -> None:
    registry = _registry(f"https://{HOST}/token")
    client = _client(registry, {HOST: LOGIN})
    assert client.fetch(f"{HOST}/team/app:1").digest == IMAGE.digest
    assert registry.token_calls[0].authorization is not None


def test_a_credential_is_not_sent_to_a_realm_on_another_host() -> None:
    registry = _registry("https://collector.example/token")
    client = _client(registry, {HOST: LOGIN})
    with pytest.raises(Blocked) as caught:
        client.fetch(f"{HOST}/team/app:1")
    message = str(caught.value)
    assert "collector.example is another host" in message
    assert "registry.tokenRealms" in message
    assert registry.token_calls == []  # nothing went there
    assert not any(r.url.host == "collector.example" for r in registry.requests)


def test_a_realm_listed_for_the_registry_receives_its_credential() -> None:
    registry = _registry("https://collector.example/token")
    client = _client(registry, {HOST: LOGIN}, token_realms={HOST: ["collector.example"]})
    assert client.fetch(f"{HOST}/team/app:1").digest == IMAGE.digest
    assert registry.token_calls[0].authorization is not None


def test_a_realm_listed_for_another_registry_does_not() -> None:
    registry = _registry("https://collector.example/token")
    options = {"token_realms": {"other.example": ["collector.example"]}}
    with pytest.raises(Blocked):
        _client(registry, {HOST: LOGIN}, **options).fetch(f"{HOST}/team/app:1")
    assert registry.token_calls == []


def test_the_same_host_on_another_port_is_another_realm() -> None:
    registry = _registry(f"https://{HOST}:8443/token")
    with pytest.raises(Blocked, match="another host"):
        _client(registry, {HOST: LOGIN}).fetch(f"{HOST}/team/app:1")
    assert registry.token_calls == []


@pytest.mark.parametrize(
    ("reference", "realm", "key"),
    [
        ("docker.io/library/app:1", "https://auth.docker.io/token", "docker.io"),
        ("registry.gitlab.com/team/app:1", "https://gitlab.com/jwt/auth", "registry.gitlab.com"),
    ],
)
def test_the_known_token_services_of_big_registries_receive_their_credential(
    reference: str, realm: str, key: str
) -> None:
    registry = _registry(realm)
    client = _client(registry, {key: LOGIN})
    assert client.fetch(reference).digest == IMAGE.digest
    assert registry.token_calls[0].authorization is not None


def test_a_known_pairing_is_for_its_own_registry_only() -> None:
    registry = _registry("https://auth.docker.io/token")
    with pytest.raises(Blocked):
        _client(registry, {"ghcr.io": LOGIN}).fetch("ghcr.io/team/app:1")
    assert registry.token_calls == []


def test_a_credential_never_goes_to_a_plain_http_realm_even_for_an_insecure_registry() -> None:
    registry = _registry(f"http://{HOST}/token")
    client = _client(registry, {HOST: LOGIN}, insecure={HOST})
    with pytest.raises(Blocked, match="only over https"):
        client.fetch(f"{HOST}/team/app:1")
    assert registry.token_calls == []


def test_an_anonymous_token_request_may_go_to_a_realm_on_another_host() -> None:
    registry = _registry("https://collector.example/token")
    assert _client(registry).fetch(f"{HOST}/team/app:1").digest == IMAGE.digest
    assert registry.token_calls[0].authorization is None


def test_an_identity_token_follows_the_same_rule() -> None:
    registry = _registry("https://collector.example/token")
    login = Credential(identity_token="refresh-abc")
    with pytest.raises(Blocked):
        _client(registry, {HOST: login}).fetch(f"{HOST}/team/app:1")
    assert registry.token_calls == []


def _anonymous_requests(registry: MockRegistry) -> int:
    return sum(
        1
        for r in registry.requests
        if r.url.path.startswith("/v2/") and "authorization" not in r.headers
    )


def test_a_refused_realm_does_not_poison_the_host() -> None:
    registry = _registry("http://auth.test/token")  # plain HTTP for a TLS registry: refused
    client = _client(registry)
    with pytest.raises(Blocked):
        client.fetch(f"{HOST}/team/app:1")
    registry.challenge = bearer()  # the registry now names a good realm
    before = _anonymous_requests(registry)
    assert client.fetch(f"{HOST}/team/app:1").digest == IMAGE.digest
    assert _anonymous_requests(registry) == before + 1  # it asked again and learnt anew


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"token": "a b"}', b'{"token": "\\u00e9"}', b"{}"],
    ids=["deep", "space", "non-ascii", "no-token"],
)
def test_a_token_response_that_does_not_parse_does_not_poison_the_host(body: bytes) -> None:
    registry = _registry("https://auth.test/token")
    registry.token_body = body
    client = _client(registry)
    with pytest.raises(AuthError, match="token"):
        client.fetch(f"{HOST}/team/app:1")
    registry.token_body = None
    assert client.fetch(f"{HOST}/team/app:1").digest == IMAGE.digest


def test_a_challenge_is_remembered_for_a_bounded_time() -> None:
    registry = _registry("https://auth.test/token")
    clock = ManualClock()
    client = _client(registry, clock=clock, tag_ttl=0)
    client.fetch(f"{HOST}/team/app:1")
    asked = _anonymous_requests(registry)
    client.fetch(f"{HOST}/team/app:1")
    assert _anonymous_requests(registry) == asked  # the token went up front
    clock.advance(301)
    client.fetch(f"{HOST}/team/app:1")
    assert _anonymous_requests(registry) == asked + 1  # the challenge was learnt again
