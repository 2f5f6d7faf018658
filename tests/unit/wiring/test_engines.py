"""The one engine assembly: what each driver's arguments change, over a fake registry."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slimgate.cluster.pullsecrets import PullSecrets
from slimgate.config import Settings, parse_settings
from slimgate.errors import ConfigError, Unsupported
from slimgate.kube.placement import Placement, narrow, read_placement
from slimgate.kube.workloads import PullAccess
from slimgate.model import ImageMetadata, Platform, Subject
from slimgate.registry import Credential, CredentialStore
from slimgate.registry.client import CredentialedSource
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.options import RegistryOptions
from slimgate.wiring import Lineage, build_engines
from slimgate.wiring.engines import Registry
from tests.support import corpus
from tests.support.fakes import FakeSecrets, FakeSource
from tests.support.images import build_image, write_oci_layout

AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")
ANYWHERE = Placement()
TOOLCHAIN = "registry.example/tools/golang:1"
LINEAGE = f"registry:\n  knownToolchainImages: [{TOOLCHAIN}]\n  limits: {{lookupSeconds: 0.5}}\n"
CLEAN = corpus.load("alpine-3.24")
SHOP = PullAccess("shop", "", ("pod-cred",))


class Made:
    """A registry factory that hands out fake registries and remembers them."""

    def __init__(
        self, images: dict[str, ImageMetadata] | None = None, gate: threading.Event | None = None
    ) -> None:
        self.images = images if images is not None else {"app:1": CLEAN, TOOLCHAIN: CLEAN}
        self.gate = gate
        self.made: list[FakeSource] = []

    def __call__(
        self,
        options: RegistryOptions,
        credentials: CredentialStore | None,
        observer: RegistryObserver | None,
    ) -> Registry:
        self.made.append(FakeSource(self.images, gate=self.gate, held={TOOLCHAIN}))
        return self.made[-1]


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    held = threading.Event()
    yield held
    held.set()  # let the lineage lookups still waiting finish


def settings(text: str = "registry: {}\n") -> Settings:
    return parse_settings(text, "test.yaml")


def timed_evaluation(lineage: str, gate: threading.Event) -> tuple[float, FakeSource]:
    made = Made(gate=gate)
    mode: Lineage = "background" if lineage == "background" else "bounded"
    engines = build_engines(settings(LINEAGE), observer=None, lineage=mode, registry=made)
    started = time.monotonic()
    result = engines.shared.evaluate("app:1", Subject(), (AMD64,))
    assert result.error is None
    return time.monotonic() - started, made.made[0]


def test_background_lineage_never_waits(gate: threading.Event) -> None:
    elapsed, source = timed_evaluation("background", gate)
    assert elapsed < 0.25  # the toolchain image is still being looked up
    assert (TOOLCHAIN, AMD64) in source.calls


def test_bounded_lineage_waits_at_most_lookup_seconds(gate: threading.Event) -> None:
    elapsed, source = timed_evaluation("bounded", gate)
    assert 0.5 <= elapsed < 1.5  # registry.limits.lookupSeconds, once, then on without it
    assert (TOOLCHAIN, AMD64) in source.calls


def test_lineage_off_looks_nothing_up() -> None:
    made = Made()
    engines = build_engines(settings(LINEAGE), observer=None, lineage="off", registry=made)
    engines.shared.evaluate("app:1", Subject(), (AMD64,))
    assert made.made[0].calls == [("app:1", AMD64)]


def test_for_access_without_a_reader_or_secrets_is_the_shared_engine() -> None:
    made = Made()
    plain = build_engines(settings(), observer=None, lineage="off", registry=made)
    assert plain.for_access(SHOP, 1.0) is plain.shared
    reader = PullSecrets(FakeSecrets())
    try:
        engines = build_engines(
            settings(), observer=None, lineage="off", registry=made, pull_secrets=reader
        )
        assert engines.for_access(None, 1.0) is engines.shared
        assert engines.for_access(PullAccess("shop", "", ("missing",)), 1.0) is engines.shared
    finally:
        reader.close()


def test_for_access_with_secrets_shares_the_client_and_the_analyses() -> None:
    made = Made()
    reader = PullSecrets(FakeSecrets())
    try:
        engines = build_engines(
            settings(), observer=None, lineage="off", registry=made, pull_secrets=reader
        )
        private = engines.for_access(SHOP, 1.0)
        assert private is not engines.shared
        assert private.analyses is engines.shared.analyses
        assert private.policy is engines.shared.policy
        [view] = made.made[0].views  # the same client underneath, with the store on top
        assert private.source is view
        assert view.credentials is not None
        assert view.credentials.lookup("registry.example") is not None
    finally:
        reader.close()


def test_an_engine_with_credentials_shares_the_client_caches_and_analyses() -> None:
    engines = build_engines(settings(), observer=None, lineage="off", insecure=["localhost:5000"])
    try:
        store = CredentialStore({"registry.example": Credential("bob", "s3cret")})
        private = engines.with_credentials(store)
        assert private is not engines.shared
        assert private.analyses is engines.shared.analyses
        # the real client underneath (its caches and connections), with the store on top
        assert isinstance(private.source, CredentialedSource)
        assert private.source._client is engines.client
        assert engines.client is not None
        assert engines.client.options.is_insecure("localhost:5000")
    finally:
        engines.close()


def test_retire_keeps_a_shared_client_and_closes_a_replaced_one() -> None:
    made = Made()
    first = build_engines(settings(), observer=None, lineage="off", registry=made)
    policy_only = settings("policy: {mode: audit}\n")
    second = build_engines(policy_only, observer=None, lineage="off", registry=made, previous=first)
    assert second.client is first.client
    assert first.retire(second) is None
    assert second.shared is not first.shared  # a new generation: its own memo of analyses
    assert second.shared.analyses is not first.shared.analyses
    other = settings('registry:\n  insecure: ["localhost:5001"]\n')
    third = build_engines(other, observer=None, lineage="off", registry=made, previous=second)
    assert third.client is not second.client
    retire = second.retire(third)
    assert retire is not None
    assert not made.made[0].closed
    retire()
    assert made.made[0].closed
    assert not made.made[1].closed


def test_the_lineage_resolver_is_kept_while_the_client_and_images_are() -> None:
    made = Made()
    first = build_engines(settings(LINEAGE), observer=None, lineage="background", registry=made)
    again = build_engines(
        settings(LINEAGE + "policy: {mode: warn}\n"),
        observer=None,
        lineage="background",
        registry=made,
        previous=first,
    )
    assert again.shared._lineage is first.shared._lineage
    assert again.shared._lineage is not None


def test_close_leaves_the_drivers_reader_open() -> None:
    made = Made()
    reader = PullSecrets(FakeSecrets())
    try:
        engines = build_engines(
            settings(), observer=None, lineage="off", registry=made, pull_secrets=reader
        )
        engines.close()
        assert made.made[0].closed
        assert reader.store_for(SHOP, 1.0) is not None  # its threads still read
    finally:
        reader.close()


def test_an_engine_that_raises_gives_an_error_result() -> None:
    made = Made({"app:1": CLEAN})
    engines = build_engines(settings(), observer=None, lineage="off", registry=made)
    made.made[0].images["broken:1"] = RuntimeError("bug")
    evaluate = engines.evaluate_audit((AMD64,), 1.0)
    out = evaluate("broken:1", Subject(namespace="a"), None, ANYWHERE)
    assert out.error == "evaluation failed: RuntimeError: bug"
    assert evaluate("app:1", Subject(namespace="a"), None, ANYWHERE).error is None


def test_a_workload_with_pull_access_is_looked_up_by_the_engine_for_it() -> None:
    made = Made()
    reader = PullSecrets(FakeSecrets())
    try:
        engines = build_engines(
            settings(), observer=None, lineage="off", registry=made, pull_secrets=reader
        )
        evaluate = engines.evaluate_audit((AMD64,), 1.0)
        evaluate("app:1", Subject(namespace="shop"), SHOP, ANYWHERE)
        evaluate("app:1", Subject(namespace="shop"), None, ANYWHERE)
        shared = made.made[0]
        [private] = shared.views
        assert (private.calls, shared.calls) == ([("app:1", AMD64)], [("app:1", AMD64)])
    finally:
        reader.close()


def test_the_audit_evaluates_the_platforms_a_workloads_placement_allows() -> None:
    made = Made()
    engines = build_engines(settings(), observer=None, lineage="off", registry=made)
    nodes = (AMD64, ARM64)
    evaluate = engines.evaluate_audit((AMD64,), 1.0, lambda p: narrow(nodes, p))
    pinned = read_placement({"nodeSelector": {"kubernetes.io/arch": "arm64"}})
    evaluate("app:1", Subject(namespace="shop"), None, pinned)
    assert made.made[0].calls == [("app:1", ARM64)]
    evaluate("web:1", Subject(namespace="shop"), None, ANYWHERE)
    assert made.made[0].calls[1:] == [("web:1", AMD64), ("web:1", ARM64)]


def test_only_check_reads_local_references(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", build_image())
    made = Made()
    audit = build_engines(settings(), observer=None, lineage="off", registry=made)
    result = audit.shared.evaluate(f"oci:{layout}", Subject(), (AMD64,))
    assert result.error is not None  # asked of the registry, never read from this disk
    assert made.made[0].calls == [(f"oci:{layout}", AMD64)]
    check = build_engines(
        settings(), observer=None, lineage="off", connect="lazy", local_sources=True, registry=made
    )
    assert check.shared.evaluate(f"oci:{layout}", Subject(), (AMD64,)).error is None


def test_registry_client_is_made_only_for_registry_references(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", build_image())
    made = Made()
    engines = build_engines(
        settings(), observer=None, lineage="off", connect="lazy", local_sources=True, registry=made
    )
    engines.shared.evaluate(f"oci:{layout}", Subject(), (AMD64,))
    assert made.made == []
    engines.shared.evaluate("app:1", Subject(), (AMD64,))
    engines.shared.evaluate("other:2", Subject(), (AMD64,))
    [client] = made.made
    assert [reference for reference, _ in client.calls] == ["app:1", "other:2"]


def test_a_lint_engine_reads_nothing() -> None:
    made = Made()
    engines = build_engines(
        settings(), observer=None, lineage="off", connect="never", registry=made
    )
    result = engines.shared.evaluate("app:1", Subject(), (AMD64,))
    assert result.error == "registry references are not available here"
    assert made.made == []
    with pytest.raises(Unsupported):
        engines.with_credentials(CredentialStore.empty())


def test_an_eager_client_fails_on_a_bad_ca_bundle(tmp_path: Path) -> None:
    bad = settings(f"registry:\n  caBundle: {tmp_path / 'missing.pem'}\n")
    with pytest.raises(ConfigError, match="caBundle"):
        build_engines(bad, observer=None, lineage="off")
    lazy = build_engines(bad, observer=None, lineage="off", connect="lazy", local_sources=True)
    assert lazy.client is None  # made, and refused, only when a registry image is asked for


def test_a_credentials_file_that_cannot_be_read_fails_the_build(tmp_path: Path) -> None:
    bad = settings(f"registry:\n  dockerConfig: {tmp_path / 'missing.json'}\n")
    with pytest.raises(ConfigError):
        build_engines(bad, observer=None, lineage="off", connect="lazy", local_sources=True)


class Handed(Made):
    """Remembers the credential store each registry client was made with."""

    def __init__(self) -> None:
        super().__init__()
        self.stores: list[CredentialStore | None] = []

    def __call__(
        self,
        options: RegistryOptions,
        credentials: CredentialStore | None,
        observer: RegistryObserver | None,
    ) -> Registry:
        self.stores.append(credentials)
        return super().__call__(options, credentials, observer)


def test_the_docker_configs_helpers_reach_every_driver_through_the_store(
    tmp_path: Path,
) -> None:
    from slimgate.registry.counters import Counters
    from slimgate.registry.limits import Deadline
    from tests.support.credential_programs import answering, write_program

    answer = '{"ServerURL": "ghcr.io", "Username": "u", "Secret": "s"}'
    write_program(tmp_path, "docker-credential-gh", answering(answer))
    docker = tmp_path / "config.json"
    docker.write_text('{"auths": {}, "credHelpers": {"ghcr.io": "gh"}}')
    text = f"registry:\n  dockerConfig: {docker}\n  credentialPlugins: {{binDir: {tmp_path}}}\n"
    made, counters = Handed(), Counters()
    build_engines(settings(text), observer=counters, lineage="off", registry=made)
    (store,) = made.stores
    assert store is not None
    assert store.resolve("ghcr.io", "team/app", Deadline(5)) == Credential("u", "s")
    assert counters.runs("docker-credential-gh", "ok") == 1


def test_helpers_without_a_bin_dir_are_refused_at_start(tmp_path: Path) -> None:
    docker = tmp_path / "config.json"
    docker.write_text('{"auths": {}, "credsStore": "desktop"}')
    with pytest.raises(ConfigError, match=r"set registry\.credentialPlugins\.binDir"):
        build_engines(
            settings(f"registry:\n  dockerConfig: {docker}\n"),
            observer=None,
            lineage="off",
            registry=Handed(),
        )


def test_a_helper_missing_from_the_bin_dir_is_refused_at_start(tmp_path: Path) -> None:
    docker = tmp_path / "config.json"
    docker.write_text('{"auths": {}, "credHelpers": {"ghcr.io": "gh"}}')
    text = f"registry:\n  dockerConfig: {docker}\n  credentialPlugins: {{binDir: {tmp_path}}}\n"
    with pytest.raises(ConfigError, match="docker-credential-gh is not an executable file"):
        build_engines(settings(text), observer=None, lineage="off", registry=Handed())
