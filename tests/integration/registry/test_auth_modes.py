"""Each authentication mode and TLS against a real registry (distribution 2.8)."""

from __future__ import annotations

import logging

import pytest

from slimgate.errors import AuthError, RegistryUnavailable
from slimgate.model import Platform
from slimgate.registry import Credential, CredentialStore, RegistryClient, RegistryOptions
from tests.support.fixtures import (
    BASIC_PASSWORD,
    BASIC_USER,
    TOKEN_PASSWORD,
    TOKEN_USER,
)
from tests.support.images import BuiltImage, ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer

pytestmark = pytest.mark.registry

IMAGE = build_image(ImageSpec(env=["MODE=auth"]))


@pytest.fixture(scope="module")
def basic_image(basic_registry: RegistryServer) -> BuiltImage:
    push(basic_registry.url, "team/app", "1", IMAGE, username=BASIC_USER, password=BASIC_PASSWORD)
    return IMAGE


@pytest.fixture(scope="module")
def token_images(token_registry: RegistryServer) -> BuiltImage:
    for repository in ("team/app", "public/app"):
        push(
            token_registry.url,
            repository,
            "1",
            IMAGE,
            username=TOKEN_USER,
            password=TOKEN_PASSWORD,
            verify=token_registry.verify,
        )
    return IMAGE


def _token_options(server: RegistryServer) -> RegistryOptions:
    assert server.token_server is not None
    assert server.ca_path is not None
    realm_host = f"127.0.0.1:{server.token_server.port}"
    return RegistryOptions(
        allow_private={server.host, realm_host},
        ca_bundle=str(server.ca_path),
        token_realms={server.host: {realm_host}},  # its token service listens on another port
    )


def test_anonymous_registry(plain_registry: RegistryServer) -> None:
    push(plain_registry.url, "auth/anon", "1", IMAGE)
    with RegistryClient(RegistryOptions(insecure={plain_registry.host})) as client:
        assert client.fetch(f"{plain_registry.host}/auth/anon:1").digest == IMAGE.digest


def test_basic_auth_with_credentials(
    basic_registry: RegistryServer, basic_image: BuiltImage
) -> None:
    store = CredentialStore({basic_registry.host: Credential(BASIC_USER, BASIC_PASSWORD)})
    options = RegistryOptions(insecure={basic_registry.host})
    with RegistryClient(options, credentials=store) as client:
        meta = client.fetch(f"{basic_registry.host}/team/app:1")
    assert meta.digest == basic_image.digest


@pytest.mark.parametrize("credential", [None, Credential(BASIC_USER, "wrong")])
def test_basic_auth_without_or_with_wrong_credentials_is_an_auth_error(
    basic_registry: RegistryServer, basic_image: BuiltImage, credential: Credential | None
) -> None:
    store = CredentialStore({basic_registry.host: credential} if credential else {})
    options = RegistryOptions(insecure={basic_registry.host})
    with RegistryClient(options, credentials=store) as client, pytest.raises(AuthError) as caught:
        client.fetch(f"{basic_registry.host}/team/app:1")
    assert basic_registry.host in str(caught.value)


def test_token_auth_with_credentials_over_tls(
    token_registry: RegistryServer, token_images: BuiltImage
) -> None:
    store = CredentialStore({token_registry.host: Credential(TOKEN_USER, TOKEN_PASSWORD)})
    with RegistryClient(_token_options(token_registry), credentials=store) as client:
        meta = client.fetch(f"{token_registry.host}/team/app:1", Platform())
        assert meta.digest == token_images.digest
        client.fetch(f"{token_registry.host}/team/app@{token_images.digest}")
        assert client.counters.misses("token") == 1  # one token serves both lookups
        assert client.counters.hits("token") >= 1


def test_token_auth_anonymous_pull_of_a_public_repository(
    token_registry: RegistryServer, token_images: BuiltImage
) -> None:
    with RegistryClient(_token_options(token_registry)) as client:
        assert client.fetch(f"{token_registry.host}/public/app:1").digest == token_images.digest


def test_token_auth_anonymous_pull_of_a_private_repository_is_refused(
    token_registry: RegistryServer, token_images: BuiltImage
) -> None:
    with (
        RegistryClient(_token_options(token_registry)) as client,
        pytest.raises(AuthError) as caught,
    ):
        client.fetch(f"{token_registry.host}/team/app:1")
    assert "anonymous" in str(caught.value)


def test_token_auth_with_a_wrong_password_is_refused_by_the_token_service(
    token_registry: RegistryServer, token_images: BuiltImage
) -> None:
    store = CredentialStore({token_registry.host: Credential(TOKEN_USER, "nope")})
    client = RegistryClient(_token_options(token_registry), credentials=store)
    with client, pytest.raises(AuthError, match="token service"):
        client.fetch(f"{token_registry.host}/team/app:1")


def test_per_request_credentials_share_the_client(
    token_registry: RegistryServer, token_images: BuiltImage
) -> None:
    pod_secret = CredentialStore.from_docker_config(
        {
            "auths": {
                f"https://{token_registry.host}/v1/": {
                    "username": TOKEN_USER,
                    "password": TOKEN_PASSWORD,
                }
            }
        }
    )
    with RegistryClient(_token_options(token_registry)) as client:
        source = client.with_credentials(pod_secret)
        assert source.fetch(f"{token_registry.host}/team/app:1", Platform()).digest == (
            token_images.digest
        )
        # the plain client still has no credentials of its own
        with pytest.raises(AuthError):
            client.fetch(f"{token_registry.host}/team/app:1")


def test_secrets_never_reach_the_logs_even_at_debug(
    token_registry: RegistryServer, token_images: BuiltImage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = CredentialStore({token_registry.host: Credential(TOKEN_USER, TOKEN_PASSWORD)})
    with RegistryClient(_token_options(token_registry), credentials=store) as client:
        client.fetch(f"{token_registry.host}/team/app:1")
    assert any(r.name == "slimgate.registry" for r in caplog.records)
    text = caplog.text
    assert TOKEN_PASSWORD not in text
    assert "eyJ" not in text  # no JWT (they all start with a base64 '{"')


def test_custom_ca_bundle_is_trusted(tls_registry: RegistryServer) -> None:
    push(tls_registry.url, "tls/app", "1", IMAGE, verify=tls_registry.verify)
    options = RegistryOptions(
        allow_private={tls_registry.host}, ca_bundle=str(tls_registry.ca_path)
    )
    with RegistryClient(options) as client:
        assert client.fetch(f"{tls_registry.host}/tls/app:1").digest == IMAGE.digest


def test_without_the_ca_the_certificate_is_refused(tls_registry: RegistryServer) -> None:
    push(tls_registry.url, "tls/app", "1", IMAGE, verify=tls_registry.verify)
    client = RegistryClient(RegistryOptions(allow_private={tls_registry.host}))
    with client, pytest.raises(RegistryUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        client.fetch(f"{tls_registry.host}/tls/app:1")
