"""Clients that misbehave, against the real ``slimgate serve`` process over real TLS.

Each case is what a broken or hostile client can do to a connection: send half a request
head and stop (slowloris), send a body that stops, open TLS and say nothing, connect and
never start TLS, hold many connections at once, go away mid-body a thousand times, pipeline
requests, send a body of exactly the size limit or one byte more. The server must answer
408 or 400 where an answer is due (never 500), close what it cannot use within its
timeouts, stay within its connection cap and keep answering everyone else.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from slimgate.config.settings import MIB
from slimgate.webhook.connections import DEFAULT_HANDSHAKE_TIMEOUT, MAX_HEAD_BYTES
from tests.integration.webhook.conftest import Images
from tests.support import admission
from tests.support.faults import FaultServer, Reply
from tests.support.hostile_client import (
    Target,
    children,
    closed_by_server,
    held,
    read_response,
    request_bytes,
    rss_mb,
)
from tests.support.served import ServedWebhook
from tests.support.tls import write_serving

pytestmark = pytest.mark.registry

HEADER_TIMEOUT = 2.0
MAX_CONNECTIONS = 200
TIMEOUT_SECONDS = 2  # the review deadline, and so the body's, is 80 % of it: 1.6 s
BODY_DEADLINE = 0.8 * TIMEOUT_SECONDS
LIMIT = 3 * MIB
CONFIG = f"""
registry:
  insecure: ["127.0.0.1"]
webhook:
  timeoutSeconds: {TIMEOUT_SECONDS}
"""
# An object in a namespace the webhook never checks: answered without any registry.
SKIPPED = admission.review(admission.pod(["example.invalid/app:1"], namespace="kube-system"))


class Served(ServedWebhook):
    @property
    def target(self) -> Target:
        return Target("127.0.0.1", self.port, self.ca)

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def answers(self) -> bool:
        with self.client() as client:
            return client.get(f"{self.url}/healthz").status_code == 200


def start(root: Path, ca: trustme.CA, config: str, *extra: str) -> Served:
    ca_path, cert, key = write_serving(ca, root, "127.0.0.1", "localhost")
    (root / "config.yaml").write_text(config)
    return Served(root, root / "config.yaml", cert, key, ca_path, extra=extra)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, test_ca: trustme.CA, images: Images
) -> Iterator[Served]:
    server = start(
        tmp_path_factory.mktemp("hostile"),
        test_ca,
        CONFIG,
        *("--header-timeout", str(HEADER_TIMEOUT), "--max-connections", str(MAX_CONNECTIONS)),
    )
    try:
        yield server
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


def body_of(review: dict[str, object], size: int | None = None) -> bytes:
    """The review as JSON, padded with trailing spaces (still JSON) to ``size`` bytes."""
    data = json.dumps(review).encode()
    return data if size is None else data + b" " * (size - len(data))


def test_half_sent_headers_get_a_408_and_the_connection_closes(served: Served) -> None:
    with served.target.tls() as sock:
        sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-")
        started = time.monotonic()
        status, headers, _ = read_response(sock)
        assert status == 408
        assert headers["connection"] == "close"
        assert closed_by_server(sock, 2) is not None
    assert time.monotonic() - started < HEADER_TIMEOUT + 1


def test_a_head_that_keeps_growing_gets_a_431_and_the_connection_closes(
    served: Served,
) -> None:
    with served.target.tls() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        for i in range(MAX_HEAD_BYTES // 1000 + 10):  # a header line at a time, as a drip
            try:
                sock.sendall(f"X-Pad-{i}: {'x' * 1000}\r\n".encode())
            except OSError:
                break  # closed by the server: the answer is already there to read
            time.sleep(0.005)
        status, headers, _ = read_response(sock)
        assert status == 431
        assert headers["connection"] == "close"
        assert closed_by_server(sock, 3) is not None
    assert served.answers()


def test_a_head_just_under_the_limit_is_served(served: Served) -> None:
    padding = "".join(f"X-Pad-{i}: {'x' * 1000}\r\n" for i in range(MAX_HEAD_BYTES // 1000 - 4))
    with served.target.tls() as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: localhost\r\n{padding}\r\n".encode())
        assert read_response(sock)[0] == 200


def test_a_tls_connection_that_sends_nothing_is_closed_without_an_answer(
    served: Served,
) -> None:
    with served.target.tls() as sock:
        started = time.monotonic()
        sock.settimeout(HEADER_TIMEOUT + 2)
        assert sock.recv(100) == b""  # closed, and nothing was sent first
    assert HEADER_TIMEOUT - 0.5 < time.monotonic() - started < HEADER_TIMEOUT + 1


def test_a_connection_that_never_starts_tls_is_closed(served: Served) -> None:
    with served.target.tcp() as sock:
        closed = closed_by_server(sock, DEFAULT_HANDSHAKE_TIMEOUT + 3)
    assert closed is not None
    assert closed < DEFAULT_HANDSHAKE_TIMEOUT + 1


def test_a_kept_alive_connection_outlives_the_header_timeout(served: Served) -> None:
    request = request_bytes("POST", "/validate", body_of(SKIPPED))
    with served.target.tls() as sock:
        sock.sendall(request)
        assert read_response(sock)[0] == 200
        assert closed_by_server(sock, HEADER_TIMEOUT + 1) is None  # idle, and still open
        sock.sendall(request)
        status, headers, body = read_response(sock)
    assert status == 200
    assert headers.get("connection", "") != "close"
    assert json.loads(body)["response"]["allowed"] is True


def test_a_stalled_body_gets_a_408_within_the_deadline(served: Served) -> None:
    body = body_of(SKIPPED)
    with served.target.tls() as sock:
        sock.sendall(request_bytes("POST", "/validate", body[:20], length=len(body)))
        started = time.monotonic()
        status, headers, answer = read_response(sock)
        elapsed = time.monotonic() - started
        assert closed_by_server(sock, 2) is not None
    assert status == 408
    assert headers["connection"] == "close"
    assert "did not arrive" in json.loads(answer)["reason"]
    assert BODY_DEADLINE - 0.3 < elapsed < BODY_DEADLINE + 1


def test_the_body_limit_holds_to_the_byte(served: Served) -> None:
    review = admission.review(admission.pod(["example.invalid/app:1"], namespace="kube-system"))
    with served.target.tls() as sock:
        sock.sendall(request_bytes("POST", "/validate", body_of(review, LIMIT)))
        status, headers, body = read_response(sock)
        assert status == 200, body[:300]
        assert json.loads(body)["response"]["uid"] == review["request"]["uid"]
        assert headers.get("connection", "") != "close"
        # one byte more on the same connection: refused before the body is read
        sock.sendall(request_bytes("POST", "/validate", body_of(review, LIMIT + 1)))
        status, headers, body = read_response(sock)
        assert status == 400
        assert f"larger than {LIMIT} bytes" in json.loads(body)["reason"]
        assert headers["connection"] == "close"
        assert closed_by_server(sock, 5) is not None


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    first = admission.review(admission.pod(["example.invalid/a:1"], namespace="kube-system"))
    second = admission.review(admission.pod(["example.invalid/b:1"], namespace="kube-system"))
    with served.target.tls() as sock:
        sock.sendall(
            request_bytes("POST", "/validate", body_of(first))
            + request_bytes("GET", "/healthz")
            + request_bytes("POST", "/validate", body_of(second))
        )
        answers = [read_response(sock) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert json.loads(answers[0][2])["response"]["uid"] == first["request"]["uid"]
    assert answers[1][2] == b"ok\n"
    assert json.loads(answers[2][2])["response"]["uid"] == second["request"]["uid"]


def test_a_thousand_mid_body_disconnects_leave_the_server_serving(served: Served) -> None:
    before = served.rss()
    head = request_bytes("POST", "/validate", b'{"apiVersion": "admission.k8s.io/v1"', length=5000)
    failures: list[BaseException] = []

    def disconnect(count: int) -> None:
        for _ in range(count):
            try:
                with served.target.tls() as sock:
                    sock.sendall(head)
            except OSError as exc:
                failures.append(exc)

    workers = [threading.Thread(target=disconnect, args=(250,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures
    with served.client() as client:
        answer = client.post(f"{served.url}/validate", content=body_of(SKIPPED))
    assert answer.status_code == 200
    assert served.rss() < before + 30
    assert "Traceback" not in served.log.read_text()


def test_slowloris_is_capped_and_released_by_the_header_timeout(served: Served) -> None:
    before = served.rss()
    sockets: list[socket.socket] = []
    with held(sockets):
        for _ in range(MAX_CONNECTIONS + 100):
            sock = served.target.tls()
            sock.sendall(b"POST /validate HTTP/1.1\r\nHost: localhost\r\n")
            sockets.append(sock)
        time.sleep(0.5)
        kept = sum(closed_by_server(sock, 0.01) is None for sock in sockets)
        assert kept <= MAX_CONNECTIONS  # the rest were closed as soon as they were set up
        assert served.rss() < before + 30
        time.sleep(HEADER_TIMEOUT + 0.5)
        assert all(closed_by_server(sock, 1) is not None for sock in sockets)
    assert served.answers()


def test_healthz_answers_while_a_large_review_is_decided(served: Served, images: Images) -> None:
    # a Pod as large as the body limit allows, every container naming one cached image
    served.answers()
    with served.client() as client:
        small = admission.review(admission.pod([images.small]))
        assert client.post(f"{served.url}/validate", json=small).status_code == 200
    containers = (LIMIT - 4096) // 90
    big = admission.review(admission.pod([images.small] * containers))
    while len(body_of(big)) > LIMIT:
        containers -= 500
        big = admission.review(admission.pod([images.small] * containers))
    outcome: list[int] = []

    def review() -> None:
        with served.client() as client:
            outcome.append(client.post(f"{served.url}/validate", content=body_of(big)).status_code)

    reviewer = threading.Thread(target=review)
    waits: list[float] = []
    with served.client() as client:
        client.get(f"{served.url}/healthz")  # connection set up before the review starts
        reviewer.start()
        while reviewer.is_alive():
            started = time.monotonic()
            assert client.get(f"{served.url}/healthz").status_code == 200
            waits.append(time.monotonic() - started)
            time.sleep(0.05)
    reviewer.join()
    assert outcome == [200]
    assert waits
    assert max(waits) < 1.0, waits


def test_sigterm_lets_a_review_in_flight_finish(
    tmp_path: Path, test_ca: trustme.CA, fault_server: FaultServer
) -> None:
    slow = Reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', delay=1.5)
    for method in ("HEAD", "GET"):
        fault_server.route(method, "/v2/team/slow/manifests/1", slow)
    config = "registry:\n  insecure: ['127.0.0.1']\nwebhook:\n  timeoutSeconds: 5\n"
    server = start(tmp_path / "graceful", test_ca, config)
    review = admission.review(admission.pod([f"{fault_server.host}/team/slow:1"]))
    answers: list[httpx.Response] = []

    def send() -> None:
        with server.client() as client:
            answers.append(client.post(f"{server.url}/validate", json=review))

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 5
    while not fault_server.requests(path_part="/team/slow/"):
        assert time.monotonic() < deadline, "the review never reached the registry"
        time.sleep(0.05)
    exit_code = server.stop()  # while the lookup waits on the registry
    sender.join(timeout=10)
    # uvicorn re-raises the SIGTERM it caught once it has shut down cleanly
    assert exit_code in (0, -signal.SIGTERM)
    assert "Finished server process" in server.log.read_text()
    (answer,) = answers
    assert answer.status_code == 200
    assert answer.json()["response"]["uid"] == review["request"]["uid"]
    assert "Traceback" not in server.log.read_text()


def test_two_workers_share_the_port_and_stop_together(tmp_path: Path, test_ca: trustme.CA) -> None:
    server = start(tmp_path / "two", test_ca, CONFIG, "--workers", "2")
    try:
        workers = children(server.process.pid)
        with server.client() as client:
            for _ in range(4):
                answer = client.post(f"{server.url}/validate", content=body_of(SKIPPED))
                assert answer.status_code == 200
    finally:
        server.stop()
    deadline = time.monotonic() + 5  # the supervisor's helper processes exit just after it
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived the server"
        time.sleep(0.1)
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line]
    started = [line for line in lines if line["message"].startswith("Started server process")]
    assert len(started) == 2  # each worker logs as JSON too
