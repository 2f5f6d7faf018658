"""The ASGI front: the admission route on the event loop, lookups on threads, the rest Flask.

Driven with hand-made ASGI messages (the ASGI 3 HTTP and lifespan specs), so each branch is
reached on purpose; the served path over TLS is covered in the integration tests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from slimgate.config import WebhookSettings
from slimgate.evaluation import ImageResult
from slimgate.webhook.app import create_app
from slimgate.webhook.asgi import INLINE_LIMIT, WebhookAsgi
from slimgate.webhook.handler import AdmissionHandler
from slimgate.webhook.review import Outcome, Pending, Reviewer
from tests.support import admission
from tests.unit.webhook.fakes import BLOATED, FakeEngine

GO = "registry.example/team/api:1.4"


class ThreadNoting(FakeEngine):
    """Remembers on which thread each image was evaluated."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def evaluate(self, image: str, *args: Any, **kwargs: Any) -> ImageResult:
        self.threads.append(threading.current_thread().name)
        return super().evaluate(image, *args, **kwargs)


@pytest.fixture
def engine() -> ThreadNoting:
    engine = ThreadNoting()
    engine.canned[GO] = BLOATED
    return engine


@pytest.fixture
def front(engine: ThreadNoting) -> Iterator[WebhookAsgi]:
    app = create_app(WebhookSettings(timeout_seconds=5.0, max_body_bytes=4096), engine)
    front = WebhookAsgi(app, review_threads=2, body_timeout=0.3)
    yield front
    asyncio.run(lifespan(front, "lifespan.shutdown"))
    app.extensions["slimgate"]["pool"].shutdown(wait=True)


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
    }


class Exchange:
    """One request: the messages the app will receive and those it sent."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.incoming = list(messages)
        self.received = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.received += 1
        if self.incoming:
            return self.incoming.pop(0)
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def call(
    front: WebhookAsgi,
    method: str,
    path: str,
    chunks: list[bytes],
    *,
    length: int | None = None,
    disconnect: bool = False,
    stalled: bool = False,
) -> Exchange:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    messages = [
        {
            "type": "http.request",
            "body": chunk,
            "more_body": i < len(chunks) - 1 or disconnect or stalled,
        }
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    exchange = Exchange(messages)
    scope = http_scope(method, path, headers)
    asyncio.run(asyncio.wait_for(front(scope, exchange.receive, exchange.send), 10))  # type: ignore[arg-type]
    return exchange


async def lifespan(front: WebhookAsgi, event: str) -> list[dict[str, Any]]:
    exchange = Exchange([{"type": event}])
    task = asyncio.ensure_future(front({"type": "lifespan"}, exchange.receive, exchange.send))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    task.cancel()
    return exchange.sent


def review_body(images: list[str]) -> bytes:
    return json.dumps(admission.review(admission.pod(images))).encode()


def test_a_review_in_two_chunks_is_answered(front: WebhookAsgi) -> None:
    body = review_body([GO])
    exchange = call(front, "POST", "/validate", [body[:100], body[100:]], length=len(body))
    assert exchange.status == 200
    assert dict(exchange.sent[0]["headers"])[b"content-type"] == b"application/json"
    response = json.loads(exchange.body)["response"]
    assert response["allowed"] is False
    assert "golang" in response["status"]["message"]


def test_lookups_run_on_the_review_threads_and_warm_reviews_on_the_loop(
    front: WebhookAsgi, engine: ThreadNoting, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished_on: list[str] = []
    finish = Reviewer.finish

    def noting_finish(self: Reviewer, pending: Pending) -> Outcome:
        finished_on.append(threading.current_thread().name)
        return finish(self, pending)

    monkeypatch.setattr(Reviewer, "finish", noting_finish)
    loop_thread = threading.current_thread().name  # asyncio.run runs the loop right here
    body = review_body([GO, "registry.example/team/web:2"])
    first = call(front, "POST", "/validate", [body])
    assert first.status == 200
    assert len(finished_on) == 1
    assert finished_on[0].startswith("slimgate-review")
    assert len(engine.threads) == 2
    assert all(name.startswith("slimgate-image") for name in engine.threads)
    assert loop_thread not in engine.threads
    second = call(front, "POST", "/validate", [review_body([GO, "registry.example/team/web:2"])])
    assert second.status == 200
    assert len(finished_on) == 1  # memoised: answered by begin, on the loop
    assert len(engine.threads) == 2
    assert json.loads(second.body)["response"]["allowed"] is False


def test_a_declared_length_over_the_limit_is_refused_before_reading(front: WebhookAsgi) -> None:
    exchange = call(front, "POST", "/validate", [b"{}" * 3000], length=6000)
    assert exchange.received == 0
    assert exchange.status == 400
    assert "larger than 4096 bytes" in json.loads(exchange.body)["reason"]
    # the unread body leaves the connection unusable: the client is told so
    assert (b"connection", b"close") in exchange.sent[0]["headers"]


def test_a_body_without_length_is_cut_off_at_the_limit(front: WebhookAsgi) -> None:
    exchange = call(front, "POST", "/validate", [b"x" * 3000, b"y" * 3000, b"z" * 3000])
    assert exchange.received == 2  # the third chunk is never asked for
    assert exchange.status == 400
    assert (b"connection", b"close") in exchange.sent[0]["headers"]


def test_a_body_that_stops_arriving_gets_a_408_and_the_connection_closes(
    front: WebhookAsgi,
) -> None:
    exchange = call(front, "POST", "/validate", [b'{"kind":'], length=100, stalled=True)
    assert exchange.status == 408
    assert (b"connection", b"close") in exchange.sent[0]["headers"]
    assert "did not arrive within 0.3 s" in json.loads(exchange.body)["reason"]


def test_a_large_body_is_reviewed_off_the_loop(
    engine: ThreadNoting, monkeypatch: pytest.MonkeyPatch
) -> None:
    begun_on: list[str] = []
    begin = AdmissionHandler.begin

    def noting_begin(self: AdmissionHandler, data: bytes | None) -> object:
        begun_on.append(threading.current_thread().name)
        return begin(self, data)

    monkeypatch.setattr(AdmissionHandler, "begin", noting_begin)
    settings = WebhookSettings(timeout_seconds=5.0, max_body_bytes=2 * INLINE_LIMIT)
    app = create_app(settings, engine)
    front = WebhookAsgi(app, review_threads=2)
    small = review_body(["registry.example/team/web:2"])
    large = small + b" " * (INLINE_LIMIT + 1 - len(small))
    try:
        assert call(front, "POST", "/validate", [small]).status == 200
        assert call(front, "POST", "/validate", [large]).status == 200
    finally:
        asyncio.run(lifespan(front, "lifespan.shutdown"))
        app.extensions["slimgate"]["pool"].shutdown(wait=True)
    assert begun_on[0] == threading.current_thread().name  # the loop's thread
    assert begun_on[1].startswith("slimgate-review")


def test_not_json_gets_a_400_with_the_reason(front: WebhookAsgi) -> None:
    exchange = call(front, "POST", "/validate", [b"{not json"])
    assert exchange.status == 400
    assert (b"connection", b"close") not in exchange.sent[0]["headers"]  # body read whole
    assert json.loads(exchange.body)["reason"].startswith("body is not JSON")


def test_a_client_that_goes_away_gets_no_answer(front: WebhookAsgi) -> None:
    exchange = call(front, "POST", "/validate", [b'{"kind":'], disconnect=True)
    assert exchange.sent == []


def test_other_routes_are_flasks(front: WebhookAsgi) -> None:
    health = call(front, "GET", "/healthz", [b""])
    assert (health.status, health.body) == (200, b"ok\n")
    wrong_method = call(front, "GET", "/validate", [b""])
    assert wrong_method.status == 405
    missing = call(front, "GET", "/nowhere", [b""])
    assert missing.status == 404
    assert isinstance(front.flask, Flask)


def test_lifespan_startup_and_shutdown_complete(front: WebhookAsgi) -> None:
    assert asyncio.run(lifespan(front, "lifespan.startup")) == [
        {"type": "lifespan.startup.complete"}
    ]
    assert asyncio.run(lifespan(front, "lifespan.shutdown")) == [
        {"type": "lifespan.shutdown.complete"}
    ]


def test_only_apps_from_the_factory_are_accepted() -> None:
    app = Flask("other")
    app.extensions["slimgate"] = {"handler": object()}
    with pytest.raises(TypeError, match="create_app"):
        WebhookAsgi(app)
