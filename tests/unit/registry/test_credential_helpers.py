"""Docker credential helpers (``docker-credential-<name> get``) and the order in which the
store asks pull secrets, static entries, helpers and provider plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimgate.errors import CredentialsUnavailable
from slimgate.registry.counters import Counters
from slimgate.registry.credential_programs import CredentialPrograms, ProgramSettings
from slimgate.registry.credentials import Credential, CredentialStore
from slimgate.registry.limits import Deadline
from slimgate.registry.providers import ProviderSpec
from tests.support.credential_programs import (
    PROVIDER_API,
    answering,
    calls,
    response,
    write_program,
)

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def _helper_answer(server: str, username: str, secret: str) -> str:
    return answering(json.dumps({"ServerURL": server, "Username": username, "Secret": secret}))


def _programs(
    bin_dir: Path,
    *,
    helpers: dict[str, str] | None = None,
    store: str | None = None,
    providers: tuple[ProviderSpec, ...] = (),
    counters: Counters | None = None,
    environ: dict[str, str] | None = None,
) -> CredentialPrograms:
    counters = counters or Counters()
    return CredentialPrograms(
        ProgramSettings(
            providers=providers, bin_dir=str(bin_dir), inherit_env=("HOME", "AWS_PROFILE")
        ),
        cred_helpers=helpers or {},
        creds_store=store,
        report=counters.program,
        cache_hit=counters.cache,
        environ=environ or {"HOME": "/home/x", "AWS_PROFILE": "ci", "SECRET_OF_SLIMGATE": "no"},
    )


def _deadline() -> Deadline:
    return Deadline(5.0)


def test_a_cred_helper_answers_for_its_host_only(tmp_path: Path) -> None:
    write_program(tmp_path, "docker-credential-ecr-login", _helper_answer(ECR, "AWS", "tok"))
    programs = _programs(tmp_path, helpers={ECR: "ecr-login"})
    assert programs.credential(ECR, "app", _deadline()) == Credential("AWS", "tok")
    assert programs.credential("ghcr.io", "app", _deadline()) is None
    (call,) = calls(tmp_path, "docker-credential-ecr-login")
    assert call["stdin"] == ECR
    assert call["args"] == ["get"]
    assert set(call["env"]) - {"LC_CTYPE"} == {"HOME", "AWS_PROFILE"}


def test_an_identity_token_comes_back_as_one(tmp_path: Path) -> None:
    write_program(tmp_path, "docker-credential-acr", _helper_answer(ECR, "<token>", "refresh"))
    programs = _programs(tmp_path, helpers={ECR: "acr"})
    assert programs.credential(ECR, "app", _deadline()) == Credential(identity_token="refresh")


def test_docker_hub_is_asked_about_by_its_historic_url(tmp_path: Path) -> None:
    write_program(
        tmp_path,
        "docker-credential-desktop",
        _helper_answer("https://index.docker.io/v1/", "hub", "pw"),
    )
    programs = _programs(tmp_path, store="desktop")
    assert programs.credential("docker.io", "library/app", _deadline()) == Credential("hub", "pw")
    assert calls(tmp_path, "docker-credential-desktop")[0]["stdin"] == (
        "https://index.docker.io/v1/"
    )


def test_not_found_is_no_credential_and_is_remembered(tmp_path: Path) -> None:
    body = "print('credentials not found in native keychain')\nsys.exit(1)\n"
    write_program(tmp_path, "docker-credential-desktop", body)
    counters = Counters()
    programs = _programs(tmp_path, store="desktop", counters=counters)
    assert programs.credential("ghcr.io", "x", _deadline()) is None
    assert programs.credential("ghcr.io", "y", _deadline()) is None
    assert len(calls(tmp_path, "docker-credential-desktop")) == 1
    assert counters.runs("docker-credential-desktop", "not-found") == 1
    assert counters.hits("credential-helper") == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("sys.exit(3)\n", "exited with status 3"),
        ("print('hunter2')\n", "not JSON"),
        (_helper_answer("attacker.example.com", "u", "hunter2"), "for another server"),
        ("time.sleep(30)\n", "did not finish"),
    ],
)
def test_a_failing_helper_is_a_registry_error_naming_it(
    tmp_path: Path, body: str, reason: str
) -> None:
    write_program(tmp_path, "docker-credential-bad", body)
    programs = CredentialPrograms(
        ProgramSettings(bin_dir=str(tmp_path), timeout_seconds=0.5),
        cred_helpers={ECR: "bad"},
        creds_store=None,
        report=Counters().program,
        cache_hit=Counters().cache,
        environ={},
    )
    with pytest.raises(CredentialsUnavailable) as raised:
        programs.credential(ECR, "app", _deadline())
    assert str(raised.value).startswith(f"{ECR}: credential helper docker-credential-bad failed")
    assert reason in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_pull_secrets_then_static_then_helpers_then_providers_then_creds_store(
    tmp_path: Path,
) -> None:
    write_program(tmp_path, "docker-credential-pinned", _helper_answer(ECR, "helper", "h"))
    write_program(tmp_path, "docker-credential-store", _helper_answer("ghcr.io", "store", "s"))
    plugin = write_program(tmp_path, "plugin", answering(response({"ghcr.io": ("plug", "p")})))
    spec = ProviderSpec("plugin", str(plugin), ("ghcr.io",), 600.0, PROVIDER_API)
    programs = _programs(tmp_path, helpers={ECR: "pinned"}, store="store", providers=(spec,))
    static = CredentialStore({"quay.io": Credential("static", "q"), ECR: Credential("st", "e")})
    static = static.with_programs(programs)
    secrets = CredentialStore({ECR: Credential("secret", "x")})
    pod = secrets.over(static)
    deadline = _deadline()
    assert pod.resolve(ECR, "app", deadline) == Credential("secret", "x")
    assert static.resolve(ECR, "app", deadline) == Credential("st", "e")
    assert static.resolve("quay.io", "app", deadline) == Credential("static", "q")
    assert pod.resolve("ghcr.io", "app", deadline) == Credential("plug", "p")
    with pytest.raises(CredentialsUnavailable, match="for another server"):
        pod.resolve("gcr.io", "app", deadline)  # the store answers for ghcr.io: refused
    without_static = CredentialStore().with_programs(programs)
    assert without_static.resolve(ECR, "app", deadline) == Credential("helper", "h")
    assert [c["stdin"] for c in calls(tmp_path, "docker-credential-store")] == ["gcr.io"]


def test_the_store_names_its_source_without_running_anything(tmp_path: Path) -> None:
    write_program(tmp_path, "docker-credential-pinned", "sys.exit(9)\n")
    programs = _programs(tmp_path, helpers={ECR: "pinned"})
    store = CredentialStore({"quay.io": Credential("u", "p")}).with_programs(programs)
    assert store.source_of("quay.io", "a") == Credential("u", "p").fingerprint()
    assert store.source_of(ECR, "a") == "programs:docker-credential-pinned"
    assert store.source_of("ghcr.io", "a") == "anonymous"
    assert calls(tmp_path, "docker-credential-pinned") == []


def test_cred_helpers_and_creds_store_are_read_from_the_docker_config() -> None:
    document = {
        "auths": {ECR: {}},
        "credHelpers": {f"https://{ECR}": "ecr-login"},
        "credsStore": "pass",
    }
    store = CredentialStore.from_docker_config(document, helpers=True)
    assert store.helpers == {ECR: "ecr-login"}
    assert store.helper_store == "pass"
    assert store.lookup(ECR) is None  # an empty auths entry is no credential


@pytest.mark.parametrize(
    "document",
    [
        {"auths": {}, "credHelpers": {"ghcr.io": "../../bin/sh"}},
        {"auths": {}, "credsStore": "/usr/bin/evil"},
        {"auths": {}, "credHelpers": ["ghcr.io"]},
    ],
)
def test_helper_names_with_paths_are_refused(document: dict[str, object]) -> None:
    from slimgate.errors import ConfigError

    with pytest.raises(ConfigError, match="cred"):
        CredentialStore.from_docker_config(document, helpers=True)
    # a pull secret's helpers are never run, so they are not even read
    secret = CredentialStore.from_docker_config(document)
    assert secret.helpers == {}
    assert secret.helper_store is None
