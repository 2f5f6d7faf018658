"""Misbehaving registries: each fault gives the right error, inside the lookup deadline.

The elapsed-time bounds below are correctness bounds (the deadline holds), not speed tests.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from slimgate.errors import (
    AuthError,
    Blocked,
    DigestMismatch,
    RateLimited,
    RegistryError,
    RegistryUnavailable,
    TimedOut,
    TooLarge,
    Unsupported,
)
from slimgate.model import Platform
from slimgate.registry import (
    Credential,
    CredentialStore,
    Limits,
    RegistryClient,
    RegistryOptions,
)
from tests.support.faults import FaultServer, Reply, Seen
from tests.support.images import ImageSpec, build_image, build_index

DEADLINE = 1.0
MARGIN = 0.75
IMAGE = build_image(ImageSpec(history=[("ADD rootfs", 1000), ("RUN make", 2000)]))
REPO = "faults/app"


@pytest.fixture
def served(fault_server: FaultServer) -> FaultServer:
    fault_server.serve(REPO, "1", IMAGE)
    return fault_server


_OPEN: list[RegistryClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(*servers: FaultServer, **limits: object) -> RegistryClient:
    options = RegistryOptions(
        insecure={s.host for s in servers},
        limits=Limits(lookup_seconds=DEADLINE, **limits),  # type: ignore[arg-type]
    )
    client = RegistryClient(options)
    _OPEN.append(client)
    return client


@pytest.fixture
def timed() -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < DEADLINE + MARGIN


def _ref(server: FaultServer, suffix: str = ":1") -> str:
    return f"{server.host}/{REPO}{suffix}"


def _config_path() -> str:
    return f"/v2/{REPO}/blobs/{IMAGE.config.digest}"


def _manifest_path(reference: str) -> str:
    return f"/v2/{REPO}/manifests/{reference}"


def test_the_happy_path_reads_no_layer(served: FaultServer) -> None:
    meta = _client(served).fetch(_ref(served))
    assert meta.digest == IMAGE.digest
    paths = [seen.path for seen in served.seen]
    assert paths == [_manifest_path("1"), _manifest_path(IMAGE.digest), _config_path()]
    assert all(layer.digest not in path for layer in IMAGE.layers for path in paths)


@pytest.mark.usefixtures("timed")
def test_429_is_rate_limited_with_retry_after(served: FaultServer) -> None:
    served.route("HEAD", _manifest_path("1"), Reply(429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        _client(served).fetch(_ref(served))
    assert caught.value.retry_after == 30
    assert caught.value.temporary
    assert served.host in str(caught.value)
    assert len(served.requests("HEAD")) == 1  # no retry loop


@pytest.mark.usefixtures("timed")
def test_500_is_unavailable(served: FaultServer) -> None:
    served.route("GET", _config_path(), Reply(500, b"oops"))
    with pytest.raises(RegistryUnavailable, match="HTTP 500"):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_server_slower_than_the_deadline_is_unavailable(served: FaultServer) -> None:
    served.route("GET", _config_path(), Reply(200, IMAGE.config.data, delay=10))
    with pytest.raises(RegistryUnavailable, match="deadline"):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_truncated_body_is_unavailable(served: FaultServer) -> None:
    data = IMAGE.config.data
    served.route("GET", _config_path(), Reply(200, data[:50], declared_length=len(data)))
    with pytest.raises(RegistryUnavailable, match="broke"):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_manifest_over_the_cap_is_too_large_by_content_length(served: FaultServer) -> None:
    with pytest.raises(TooLarge, match="over the 100-byte limit"):
        _client(served, manifest_bytes=100).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_chunked_manifest_over_the_cap_stops_reading(served: FaultServer) -> None:
    huge = b'{"padding": "' + b"x" * 2_000_000 + b'"}'
    served.route("GET", _manifest_path(IMAGE.digest), Reply(200, huge, chunked=True))
    with pytest.raises(TooLarge, match="stopped reading"):
        _client(served, manifest_bytes=10_000).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_config_over_the_cap_is_refused_before_fetching(served: FaultServer) -> None:
    with pytest.raises(TooLarge):
        _client(served, config_bytes=10).fetch(_ref(served))
    assert served.requests(path_part="/blobs/") == []


@pytest.mark.usefixtures("timed")
def test_an_index_over_the_entry_cap_is_too_large(fault_server: FaultServer) -> None:
    index = build_index(
        [build_image(ImageSpec(architecture=a)) for a in ("amd64", "arm64", "s390x")]
    )
    fault_server.serve(REPO, "1", index)
    with pytest.raises(TooLarge, match="more than the limit of 2"):
        _client(fault_server, index_entries=2).fetch(_ref(fault_server))


@pytest.mark.usefixtures("timed")
def test_a_manifest_that_does_not_match_its_digest_is_refused(served: FaultServer) -> None:
    other = build_image(ImageSpec(env=["EVIL=1"]))
    served.route("GET", _manifest_path(IMAGE.digest), Reply(200, other.manifest.data))
    with pytest.raises(DigestMismatch, match=IMAGE.digest):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_config_that_does_not_match_its_digest_is_refused(served: FaultServer) -> None:
    served.route("GET", _config_path(), Reply(200, IMAGE.config.data + b" "))
    with pytest.raises(DigestMismatch):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_tag_body_that_does_not_match_its_header_is_refused(served: FaultServer) -> None:
    # No digest on HEAD: the client GETs by tag and checks the header against the body.
    served.route("HEAD", _manifest_path("1"), Reply(200))
    served.route(
        "GET",
        _manifest_path("1"),
        Reply(200, IMAGE.manifest.data + b"\n", {"Docker-Content-Digest": IMAGE.digest}),
    )
    with pytest.raises(DigestMismatch):
        _client(served).fetch(_ref(served))


def test_without_a_head_digest_the_tag_body_is_hashed(served: FaultServer) -> None:
    served.route("HEAD", _manifest_path("1"), Reply(200))
    served.route(
        "GET",
        _manifest_path("1"),
        Reply(200, IMAGE.manifest.data, {"Content-Type": IMAGE.manifest.media_type}),
    )
    client = _client(served)
    assert client.fetch(_ref(served)).digest == IMAGE.digest
    assert served.requests("GET", _manifest_path(IMAGE.digest)) == []  # already cached


def test_authorization_does_not_follow_a_redirect_to_another_host(
    served: FaultServer, other_fault_server: FaultServer
) -> None:
    secret = "Basic " + "c3RvcmU6c2VjcmV0"  # store:secret
    served.require_authorization('Basic realm="faults"', secret)
    moved = f"{other_fault_server.url}/storage/config?signature=abc"
    served.route("GET", _config_path(), Reply(307, headers={"Location": moved}))
    other_fault_server.route("GET", "/storage/config", Reply(200, IMAGE.config.data))
    store = CredentialStore({served.host: Credential("store", "secret")})
    options = RegistryOptions(insecure={served.host, other_fault_server.host})
    with RegistryClient(options, credentials=store) as client:
        meta = client.fetch(_ref(served))
    assert meta.config_digest == IMAGE.config.digest
    assert served.requests("GET", _config_path())[0].headers["authorization"] == secret
    arrived = other_fault_server.requests("GET", "/storage/config")
    assert len(arrived) == 1
    assert "authorization" not in arrived[0].headers


@pytest.mark.usefixtures("timed")
@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("redirected", ["config", "manifest"])
def test_a_challenge_from_a_redirect_target_gets_no_credentials(
    fault_server: FaultServer,
    other_fault_server: FaultServer,
    redirected: str,
    status: int,
    test_ca: trustme.CA,
    test_ca_path: Path,
) -> None:
    # The registry (127.0.0.1) speaks bearer auth with its own token service (https on
    # another 127.0.0.1 port, listed for it); it redirects one document to storage on
    # 127.0.0.2, which answers with a challenge naming a realm of its own choosing.
    storage = other_fault_server
    with FaultServer("127.0.0.1", tls=test_ca) as realm:
        basic = "Basic " + base64.b64encode(b"store:secret").decode()
        realm.route("GET", "/token", lambda seen: _token_reply(seen, basic, b'{"token": "good"}'))
        storage.route("GET", "/token", Reply(200, b'{"token": "evil"}'))
        storage.route(
            "GET",
            "/storage/doc",
            Reply(status, b"{}", {"WWW-Authenticate": f'Bearer realm="{storage.url}/token"'}),
        )
        registry = fault_server
        registry.require_authorization(f'Bearer realm="{realm.url}/token"', "Bearer good")
        registry.serve(REPO, "1", IMAGE)
        path = _config_path() if redirected == "config" else _manifest_path(IMAGE.digest)
        moved = f"{storage.url}/storage/doc?signature=abc"
        registry.route("GET", path, Reply(307, headers={"Location": moved}))
        store = CredentialStore({registry.host: Credential("store", "secret")})
        options = RegistryOptions(
            insecure={registry.host, storage.host},
            allow_private={realm.host},
            ca_bundle=str(test_ca_path),
            token_realms={registry.host: {realm.host}},
            limits=Limits(lookup_seconds=DEADLINE),
        )
        with RegistryClient(options, credentials=store) as client:
            with pytest.raises(AuthError) as caught:
                client.fetch(_ref(registry))
            message = str(caught.value)
            assert f"storage host {storage.host} refused the redirected request" in message
            assert f"HTTP {status}" in message
            # Nothing reached the attacker's realm; the storage host saw one bare request.
            assert storage.requests(path_part="/token") == []
            assert [s.path for s in storage.seen] == ["/storage/doc?signature=abc"]
            assert "authorization" not in storage.seen[0].headers
            assert registry.requests(path_part="/token") == []
            assert all(
                s.headers.get("authorization") in (None, "Bearer good") for s in registry.seen
            )

            # A later lookup still authenticates with the registry's own realm.
            registry.serve(REPO, "2", IMAGE)
            assert client.fetch(_ref(registry, ":2")).digest == IMAGE.digest
        assert storage.requests(path_part="/token") == []
        assert len(storage.seen) == 1
        assert all(s.headers["authorization"] == basic for s in realm.seen)
        assert registry.requests("HEAD", _manifest_path("2"))[-1].headers["authorization"] == (
            "Bearer good"
        )


def _token_reply(seen: Seen, expected: str, body: bytes) -> Reply:
    if seen.headers.get("authorization") != expected:
        return Reply(401, b"{}")
    return Reply(200, body, {"Content-Type": "application/json"})


@pytest.mark.usefixtures("timed")
def test_a_redirect_to_a_loopback_address_is_refused_before_connecting(
    served: FaultServer, other_fault_server: FaultServer
) -> None:
    # https passes the scheme check, so only the address policy stands in the way: the
    # registry is listed insecure (which lets *it* be loopback), the target is not.
    target = f"https://{other_fault_server.host}/storage/config"
    served.route("GET", _config_path(), Reply(302, headers={"Location": target}))
    with pytest.raises(Blocked, match=r"resolves to 127\.0\.0\.2, a loopback address"):
        _client(served).fetch(_ref(served))
    assert other_fault_server.connections == 0
    assert other_fault_server.seen == []


@pytest.mark.usefixtures("timed")
def test_a_redirect_to_a_metadata_address_is_refused_even_when_listed_insecure(
    served: FaultServer,
) -> None:
    # Listing the target insecure gets the plain-HTTP hop past the scheme check; metadata
    # addresses are refused whatever the lists say.
    target = "http://169.254.169.254/latest/meta-data"
    served.route("GET", _config_path(), Reply(302, headers={"Location": target}))
    options = RegistryOptions(
        insecure={served.host, "169.254.169.254"}, limits=Limits(lookup_seconds=DEADLINE)
    )
    with (
        RegistryClient(options) as client,
        pytest.raises(Blocked, match=r"169\.254\.169\.254, a cloud metadata address"),
    ):
        client.fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_redirect_to_an_unlisted_plain_http_host_is_refused(served: FaultServer) -> None:
    # The registry itself is plain HTTP (listed insecure); the redirect target is not listed.
    served.route("GET", _config_path(), Reply(302, headers={"Location": "http://93.184.216.34/x"}))
    with pytest.raises(Blocked, match="plain-HTTP"):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_redirect_loops_stop_at_the_limit(served: FaultServer) -> None:
    served.route("GET", _config_path(), Reply(302, headers={"Location": _config_path()}))
    with pytest.raises(RegistryError, match="more than 2 redirects"):
        _client(served, redirects=2).fetch(_ref(served))
    assert len(served.requests("GET", _config_path())) == 3


@pytest.mark.usefixtures("timed")
@pytest.mark.parametrize(
    "realm",
    ["http://169.254.169.254/token", "http://127.0.0.2:1/token", "http://[::ffff:127.0.0.1]:1/t"],
)
def test_a_token_realm_at_a_blocked_address_is_refused(served: FaultServer, realm: str) -> None:
    served.require_authorization(f'Bearer realm="{realm}",service="x"', "Bearer never")
    with pytest.raises(Blocked):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_an_unreachable_token_realm_is_unavailable_not_an_auth_error(
    served: FaultServer,
) -> None:
    served.require_authorization('Bearer realm="http://127.0.0.1:1/token"', "Bearer never")
    options = RegistryOptions(insecure={served.host, "127.0.0.1:1"})
    with (
        RegistryClient(options) as client,
        pytest.raises(RegistryUnavailable, match="token service"),
    ):
        client.fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_a_refused_token_is_an_auth_error(served: FaultServer) -> None:
    served.route("GET", "/token", Reply(401, b"{}"))
    served.require_authorization(f'Bearer realm="{served.url}/token"', "Bearer never")
    with pytest.raises(AuthError, match="token service"):
        _client(served).fetch(_ref(served))


@pytest.mark.usefixtures("timed")
def test_schema1_manifests_are_unsupported(served: FaultServer) -> None:
    body = json.dumps({"schemaVersion": 1, "name": REPO, "tag": "1", "fsLayers": []}).encode()
    media = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    served.route("HEAD", _manifest_path("1"), Reply(200))  # no digest: the tag is fetched
    served.route("GET", _manifest_path("1"), Reply(200, body, {"Content-Type": media}))
    with pytest.raises(Unsupported, match="schema 1"):
        _client(served).fetch(_ref(served))


def test_a_non_image_artifact_is_unsupported(fault_server: FaultServer) -> None:
    helm = build_image()
    manifest = json.loads(helm.manifest.data)
    manifest["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"
    data = json.dumps(manifest).encode()
    fault_server.route("HEAD", _manifest_path("1"), Reply(200))
    fault_server.route(
        "GET", _manifest_path("1"), Reply(200, data, {"Content-Type": helm.manifest.media_type})
    )
    with pytest.raises(Unsupported, match="not a container image"):
        _client(fault_server).fetch(_ref(fault_server), Platform())


def test_every_request_asks_for_an_uncompressed_answer(served: FaultServer) -> None:
    served.require_authorization(f'Bearer realm="{served.url}/token"', "Bearer t")
    served.route("GET", "/token", Reply(200, b'{"token": "t"}'))
    assert _client(served).fetch(_ref(served)).digest == IMAGE.digest
    assert {s.path.split("?")[0] for s in served.seen} >= {"/token", _config_path()}
    assert {s.headers.get("accept-encoding") for s in served.seen} == {"identity"}


@pytest.mark.usefixtures("timed")
def test_a_gzip_answer_is_read_when_it_fits(served: FaultServer) -> None:
    served.route(
        "GET",
        _config_path(),
        Reply(200, gzip.compress(IMAGE.config.data), {"Content-Encoding": "gzip"}),
    )
    assert _client(served).fetch(_ref(served)).config_digest == IMAGE.config.digest


@pytest.mark.usefixtures("timed")
def test_a_tls_handshake_that_never_completes_is_cut_off_by_the_deadline() -> None:
    # The kernel completes the TCP handshake for a listening socket nobody accepts from:
    # the client's TLS hello then waits for an answer that never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        options = RegistryOptions(allow_private={host}, limits=Limits(lookup_seconds=DEADLINE))
        with RegistryClient(options) as client, pytest.raises(TimedOut, match="deadline"):
            client.fetch(f"{host}/{REPO}:1")
