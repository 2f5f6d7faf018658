"""A private image on an ECR host, read with the real ECR credential programs.

The parts are real: ``ecr-credential-provider`` (the kubelet plugin from
k8s.io/cloud-provider-aws) and ``docker-credential-ecr-login`` built from Go modules, moto's
server as the AWS API, and Debian's ``docker-registry`` that accepts only the ECR login
(``AWS`` / the token moto hands out). The image's host is of the ECR form, without a port
as ECR's are, and the client's resolver sends it to the local registry; the engines come
from ``build_engines`` as every driver's do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slimgate.config import parse_settings
from slimgate.evaluation import ImageResult
from slimgate.model import Platform, Subject
from slimgate.registry.client import RegistryClient
from slimgate.registry.counters import Counters, RegistryObserver
from slimgate.registry.credentials import CredentialStore
from slimgate.registry.options import RegistryOptions
from slimgate.wiring import build_engines
from slimgate.wiring.engines import Registry
from tests.support import aws
from tests.support.aws import ECR_HOST, ECR_PASSWORD, ECR_USER, EcrPrograms, MotoServer
from tests.support.credential_programs import write_program
from tests.support.images import ImageSpec, build_image, push
from tests.support.registry_server import RegistryServer, start_registry

pytestmark = pytest.mark.registry

AMD64 = Platform("linux", "amd64")
GO_IMAGE = build_image(
    ImageSpec(
        history=(
            ("ENV GOLANG_VERSION=1.23.4", None),
            ("COPY /target/ / # buildkit", 4096),
            ("COPY . . # buildkit", 512),
            ("RUN /bin/sh -c go build -o /usr/local/bin/api ./cmd/api # buildkit", 1024),
        ),
        env=("GOLANG_VERSION=1.23.4", "PATH=/usr/local/go/bin:/usr/bin:/bin"),
    )
)


@pytest.fixture(scope="module")
def programs() -> EcrPrograms:
    return aws.ensure_ecr_programs()


@pytest.fixture(scope="module")
def ecr_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    if not Path("/usr/bin/docker-registry").exists():
        pytest.skip("/usr/bin/docker-registry is not installed")
    server = start_registry(tmp_path_factory.mktemp("ecr"), htpasswd=(ECR_USER, ECR_PASSWORD))
    push(server.url, "team/api", "1", GO_IMAGE, username=ECR_USER, password=ECR_PASSWORD)
    yield server
    server.stop()


class ToLocal:
    """Registry clients whose resolver sends the ECR host (on port 80, plain HTTP as
    ``registry.insecure`` allows) to the local registry's port."""

    def __init__(self, registry: RegistryServer) -> None:
        self.registry = registry
        self.asked: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[tuple[str, int]]:
        self.asked.append((host, port))
        return [("127.0.0.1", self.registry.port)]

    def __call__(
        self,
        options: RegistryOptions,
        credentials: CredentialStore | None,
        observer: RegistryObserver | None,
    ) -> Registry:
        return RegistryClient(
            options, credentials=credentials, observer=observer, resolver=self.resolve
        )


def _provider_file(directory: Path, moto: MotoServer) -> Path:
    """The kubelet's file for EKS nodes, with the endpoint of the local AWS API."""
    env = [{"name": k, "value": v} for k, v in moto.environment().items()]
    path = directory / "credential-providers.yaml"
    path.write_text(json.dumps(aws.ecr_providers(env=env), indent=2))
    return path


def _evaluate(text: str, resolver: ToLocal, counters: Counters, image: str) -> ImageResult:
    settings = parse_settings(text, "slimgate.yaml")
    engines = build_engines(settings, observer=counters, lineage="off", registry=resolver)
    try:
        return engines.shared.evaluate(image, Subject(), (AMD64,))
    finally:
        engines.close()


def _rules(result: ImageResult) -> set[str]:
    return {decided.finding.rule for decided in result.decision.findings}


def _registry_settings(extra: str) -> str:
    return f"registry:\n  insecure: [{ECR_HOST}]\n{extra}"


def test_the_real_ecr_plugin_gets_the_login_and_the_image_is_judged(
    programs: EcrPrograms, moto: MotoServer, ecr_registry: RegistryServer, tmp_path: Path
) -> None:
    bin_dir = aws.link_programs(programs, tmp_path / "bin")
    config = _provider_file(tmp_path, moto)
    text = _registry_settings(
        f"  credentialPlugins: {{providerConfig: {config}, binDir: {bin_dir}}}\n"
    )
    resolver, counters = ToLocal(ecr_registry), Counters()
    settings = parse_settings(text, "slimgate.yaml")
    engines = build_engines(settings, observer=counters, lineage="off", registry=resolver)
    try:
        for repository in ("team/api", "team/api"):
            result = engines.shared.evaluate(f"{ECR_HOST}/{repository}:1", Subject(), (AMD64,))
            assert result.error is None, result.error
            assert result.digest == GO_IMAGE.digest
            assert "toolchain-base" in _rules(result)
        # the same image again is the client's own caches; another repository of the host
        # is the plugin's Registry answer from the cache: one run in all
        missing = engines.shared.evaluate(f"{ECR_HOST}/team/other:1", Subject(), (AMD64,))
        assert missing.error is not None
        assert "not found" in missing.error.lower() or "unknown" in missing.error.lower()
    finally:
        engines.close()
    assert counters.runs("ecr-credential-provider", "ok") == 1
    assert counters.hits("credential-provider") >= 1
    assert (ECR_HOST, 80) in resolver.asked


def test_without_the_plugin_the_same_image_is_a_registry_error(
    ecr_registry: RegistryServer,
) -> None:
    result = _evaluate(
        _registry_settings(""), ToLocal(ecr_registry), Counters(), f"{ECR_HOST}/team/api:1"
    )
    assert result.error is not None
    assert result.error.startswith(ECR_HOST)
    assert "(HTTP 401)" in result.error


def test_the_real_ecr_docker_helper_gets_the_login(
    programs: EcrPrograms,
    moto: MotoServer,
    ecr_registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = aws.link_programs(programs, tmp_path / "bin")
    for name, value in moto.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ECR_DISABLE_CACHE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))  # the helper writes its log under $HOME/.ecr
    docker = tmp_path / "config.json"
    docker.write_text(json.dumps({"credHelpers": {ECR_HOST: "ecr-login"}}))
    inherit = [*moto.environment(), "AWS_ECR_DISABLE_CACHE", "HOME"]
    text = _registry_settings(
        f"  dockerConfig: {docker}\n"
        f"  credentialPlugins: {{binDir: {bin_dir}, inheritEnv: {json.dumps(inherit)}}}\n"
    )
    counters = Counters()
    result = _evaluate(text, ToLocal(ecr_registry), counters, f"{ECR_HOST}/team/api:1")
    assert result.error is None, result.error
    assert "toolchain-base" in _rules(result)
    assert counters.runs("docker-credential-ecr-login", "ok") == 1


def test_a_failing_plugin_is_a_registry_error_within_the_deadline(
    ecr_registry: RegistryServer, tmp_path: Path
) -> None:
    write_program(tmp_path / "bin", "ecr-credential-provider", "time.sleep(30)\n")
    config = tmp_path / "providers.json"
    config.write_text(json.dumps(aws.ecr_providers()))
    text = _registry_settings(
        "  limits: {lookupSeconds: 1.0}\n"
        f"  credentialPlugins: {{providerConfig: {config}, binDir: {tmp_path / 'bin'}, "
        "timeoutSeconds: 10}\n"
    )
    started = time.monotonic()
    result = _evaluate(text, ToLocal(ecr_registry), Counters(), f"{ECR_HOST}/team/api:1")
    assert time.monotonic() - started < 2.5
    assert result.error is not None
    assert "credential provider ecr-credential-provider failed" in result.error
    assert "did not finish" in result.error
