"""dockerconfigjson parsing and exact-host credential matching."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from slimgate.errors import ConfigError
from slimgate.registry.credentials import Credential, CredentialStore, normalize_key


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("Registry.Example.com:5000", "registry.example.com:5000"),
        ("https://quay.io/v1/", "quay.io"),
        ("http://localhost:5000", "localhost:5000"),
        ("https://registry.example.com/v2/", "registry.example.com"),
        ("registry.example.com/some/path", "registry.example.com"),
    ],
)
def test_every_key_form_reduces_to_host_and_port(key: str, host: str) -> None:
    assert normalize_key(key) == host


def test_auth_field_and_username_password_fields_are_both_read() -> None:
    store = CredentialStore.from_docker_config(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": _auth("hub", "p:w:with:colons")},
                    "ghcr.io": {"username": "gh", "password": "token"},
                    "quay.io": {"identitytoken": "refresh"},
                    "ecr.example": {"registrytoken": "bearer"},
                }
            }
        )
    )
    assert store.lookup("docker.io") == Credential("hub", "p:w:with:colons")
    assert store.lookup("ghcr.io") == Credential("gh", "token")
    assert store.lookup("quay.io") == Credential(identity_token="refresh")
    assert store.lookup("ecr.example") == Credential(registry_token="bearer")


def test_docker_hub_aliases_all_find_the_hub_credential() -> None:
    store = CredentialStore.from_docker_config(
        {"auths": {"index.docker.io": {"auth": _auth("u", "p")}}}
    )
    for host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        assert store.lookup(host) == Credential("u", "p")


@pytest.mark.parametrize(
    "host",
    [
        "registry.example.com.evil.net",
        "evil-registry.example.com",
        "registry.example.com:5000",
        "example.com",
        "sub.registry.example.com",
    ],
)
def test_credentials_never_match_by_prefix_suffix_or_another_port(host: str) -> None:
    store = CredentialStore({"registry.example.com": Credential("u", "p")})
    assert store.lookup(host) is None


def test_a_port_is_part_of_the_key() -> None:
    store = CredentialStore({"localhost:5000": Credential("u", "p")})
    assert store.lookup("localhost:5000") == Credential("u", "p")
    assert store.lookup("localhost") is None
    assert store.lookup("localhost:5001") is None


def test_legacy_dockercfg_without_auths_is_read() -> None:
    store = CredentialStore.from_docker_config({"ghcr.io": {"auth": _auth("u", "p")}})
    assert store.lookup("ghcr.io") == Credential("u", "p")


def test_a_request_layer_wins_over_the_static_store_and_falls_back_to_it() -> None:
    static = CredentialStore(
        {"ghcr.io": Credential("static", "1"), "quay.io": Credential("q", "2")}
    )
    request = CredentialStore({"ghcr.io": Credential("pod", "3")})
    layered = request.over(static)
    assert layered.lookup("ghcr.io") == Credential("pod", "3")
    assert layered.lookup("quay.io") == Credential("q", "2")
    assert layered.lookup("docker.io") is None
    assert static.lookup("ghcr.io") == Credential("static", "1")


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        json.dumps({"auths": []}),
        json.dumps({"auths": {"ghcr.io": "x"}}),
        json.dumps({"auths": {"ghcr.io": {"auth": "%%%"}}}),
        json.dumps({"auths": {"ghcr.io": {"auth": base64.b64encode(b"nocolon").decode()}}}),
        json.dumps({"auths": {"ghcr.io": {"auth": ["nested"]}}}),
        '{"auths": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=[
        "text",
        "list",
        "auths-list",
        "entry-string",
        "bad-base64",
        "no-colon",
        "auth-list",
        "deep",
    ],
)
def test_malformed_documents_raise_config_errors_without_secrets(document: str) -> None:
    with pytest.raises(ConfigError) as caught:
        CredentialStore.from_docker_config(document, source="secret team/pull")
    assert "secret team/pull" in str(caught.value)
    assert "nocolon" not in str(caught.value)


def test_secrets_stay_out_of_repr() -> None:
    credential = Credential("user", "hunter2", identity_token="refresh-xyz", registry_token="tok")
    store = CredentialStore({"ghcr.io": credential})
    for text in (repr(credential), repr(store)):
        assert "hunter2" not in text
        assert "refresh-xyz" not in text
        assert "tok'" not in text


def test_from_file_reads_a_mounted_config(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"ghcr.io": {"auth": _auth("u", "p")}}}))
    assert CredentialStore.from_file(path).lookup("ghcr.io") == Credential("u", "p")
    with pytest.raises(ConfigError, match="cannot read"):
        CredentialStore.from_file(tmp_path / "missing.json")


def test_fingerprints_differ_between_logins_and_hide_the_secret() -> None:
    a, b = Credential("u", "p1"), Credential("u", "p2")
    assert a.fingerprint() != b.fingerprint()
    assert "p1" not in a.fingerprint()
