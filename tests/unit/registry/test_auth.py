"""The challenge flow and the token cache, against an in-memory registry."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from slimgate.errors import AuthError, Blocked
from slimgate.registry import (
    CacheOptions,
    Credential,
    CredentialStore,
    RegistryClient,
    RegistryOptions,
)
from slimgate.registry.auth import MAX_CHALLENGES, Authenticator
from slimgate.registry.challenges import Challenge, parse_challenge
from slimgate.registry.counters import Counters
from tests.support.fixtures import ManualClock
from tests.support.images import ImageSpec, build_image
from tests.unit.registry.mock_registry import HOST, MockRegistry, bearer

IMAGE = build_image()
OTHER = build_image(ImageSpec(env=["OTHER=1"]))
REALMS = {HOST: ["auth.test"]}  # the mock registry's token service is another host


def _client(
    registry: MockRegistry,
    clock: ManualClock | None = None,
    credentials: CredentialStore | None = None,
    **options: object,
) -> RegistryClient:
    return RegistryClient(
        RegistryOptions(**options),  # type: ignore[arg-type]
        credentials=credentials,
        clock=clock or ManualClock(),
        transport=registry.transport(),
    )


def test_challenges_parse_with_quoted_and_bare_values() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull",error="insufficient_scope"'
    )
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.service == "registry.docker.io"
    assert challenge.scope == "repository:library/nginx:pull"
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None
    assert basic.scheme == "basic"
    assert parse_challenge("Negotiate abc") is None


def test_remembered_challenges_are_bounded_least_recently_used_first() -> None:
    with httpx.Client() as http:
        auth = Authenticator(http, RegistryOptions(), Counters(), ManualClock())
        challenge = Challenge("bearer", "https://auth.test/token", "registry.test")
        auth.remember("first.test", challenge)
        auth.remember("kept.test", challenge)
        for n in range(MAX_CHALLENGES - 2):
            auth.remember(f"host{n}.test", challenge)
        assert auth.known("first.test") == challenge  # used: now the most recent
        auth.remember("one-more.test", challenge)  # over the bound: the oldest goes
        assert auth.known("kept.test") is None
        assert auth.known("first.test") == challenge
        assert auth.known("one-more.test") == challenge
        assert auth.remembered() == MAX_CHALLENGES


def test_anonymous_bearer_flow_fetches_one_token_and_reuses_it_until_expiry() -> None:
    registry = MockRegistry(challenge=bearer(), expires_in=120)
    registry.add("team/app", "1", IMAGE)
    registry.add("team/app", "2", OTHER)
    clock = ManualClock()
    client = _client(registry, clock, cache=_no_tag_cache())
    client.fetch(f"{HOST}/team/app:1")
    client.fetch(f"{HOST}/team/app:2")
    assert len(registry.token_calls) == 1
    assert registry.token_calls[0].scope == "repository:team/app:pull"
    assert registry.token_calls[0].authorization is None
    clock.advance(120)
    client.fetch(f"{HOST}/team/app:1")
    assert len(registry.token_calls) == 2


def test_missing_expires_in_means_sixty_seconds_and_access_token_is_accepted() -> None:
    registry = MockRegistry(challenge=bearer(), expires_in=None, token_field="access_token")
    registry.add("team/app", "1", IMAGE)
    clock = ManualClock()
    client = _client(registry, clock, cache=_no_tag_cache())
    client.fetch(f"{HOST}/team/app:1")
    clock.advance(50)
    client.fetch(f"{HOST}/team/app:1")
    assert len(registry.token_calls) == 1
    clock.advance(10)
    client.fetch(f"{HOST}/team/app:1")
    assert len(registry.token_calls) == 2


def test_tokens_are_cached_per_scope_and_per_credential() -> None:
    registry = MockRegistry(challenge=bearer())
    registry.add("team/app", "1", IMAGE)
    registry.add("team/other", "1", OTHER)
    client = _client(registry, cache=_no_tag_cache(), token_realms=REALMS)
    client.fetch(f"{HOST}/team/app:1")
    client.fetch(f"{HOST}/team/other:1")
    scopes = [call.scope for call in registry.token_calls]
    assert scopes == ["repository:team/app:pull", "repository:team/other:pull"]
    pod = CredentialStore({HOST: Credential("pod-user", "pod-pass")})
    client.fetch_with(f"{HOST}/team/app:1", credentials=pod)
    assert len(registry.token_calls) == 3
    assert (
        registry.token_calls[2].authorization
        == "Basic " + base64.b64encode(b"pod-user:pod-pass").decode()
    )


def test_basic_challenge_sends_basic_credentials_to_the_registry() -> None:
    registry = MockRegistry(challenge='Basic realm="x"', users={"alice": "pw"})
    registry.add("team/app", "1", IMAGE)
    client = _client(registry, credentials=CredentialStore({HOST: Credential("alice", "pw")}))
    assert client.fetch(f"{HOST}/team/app:1").digest == IMAGE.digest


def test_basic_challenge_without_credentials_is_an_auth_error_naming_the_registry() -> None:
    registry = MockRegistry(challenge='Basic realm="x"', users={"alice": "pw"})
    registry.add("team/app", "1", IMAGE)
    with pytest.raises(AuthError) as caught:
        _client(registry).fetch(f"{HOST}/team/app:1")
    assert HOST in str(caught.value)
    assert "anonymous" in str(caught.value)


def test_identity_token_is_exchanged_with_a_refresh_token_grant() -> None:
    registry = MockRegistry(challenge=bearer())
    registry.add("team/app", "1", IMAGE)
    store = CredentialStore({HOST: Credential(identity_token="refresh-123")})
    _client(registry, credentials=store, token_realms=REALMS).fetch(f"{HOST}/team/app:1")
    call = registry.token_calls[0]
    assert call.method == "POST"
    assert call.form["grant_type"] == ["refresh_token"]
    assert call.form["refresh_token"] == ["refresh-123"]


def test_registry_token_is_sent_as_the_bearer_token() -> None:
    registry = MockRegistry(challenge=bearer())
    registry.add("team/app", "1", IMAGE)
    registry.valid_tokens.add("pre-issued")
    store = CredentialStore({HOST: Credential(registry_token="pre-issued")})
    _client(registry, credentials=store).fetch(f"{HOST}/team/app:1")
    assert registry.token_calls == []


def test_a_plain_http_realm_is_refused_for_a_tls_registry() -> None:
    registry = MockRegistry(challenge=bearer("http://auth.test/token"))
    registry.add("team/app", "1", IMAGE)
    with pytest.raises(Blocked, match="not https"):
        _client(registry).fetch(f"{HOST}/team/app:1")
    assert registry.token_calls == []


def test_no_token_or_password_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    registry = MockRegistry(challenge=bearer())
    registry.add("team/app", "1", IMAGE)
    store = CredentialStore({HOST: Credential("log-user", "log-password-xyz")})
    caplog.set_level(logging.DEBUG)
    client = _client(registry, credentials=store, token_realms=REALMS)
    client.fetch(f"{HOST}/team/app:1")
    assert caplog.records  # the client does log at DEBUG
    text = caplog.text
    assert "log-password-xyz" not in text
    assert "issued-token-" not in text
    assert base64.b64encode(b"log-user:log-password-xyz").decode() not in text


def _no_tag_cache() -> CacheOptions:
    return CacheOptions(tag_ttl_seconds=0)
