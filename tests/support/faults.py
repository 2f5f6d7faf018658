"""A hostile registry on 127.0.0.x, for every case a real registry will not produce.

:class:`FaultServer` is a threaded ``http.server`` that answers the Distribution API from a
route table: :meth:`FaultServer.serve` publishes a built image (by tag and digest, manifests
and blobs, optionally behind an auth challenge), and :meth:`FaultServer.route` overrides any
one path with a :class:`Reply` that can be slow, dripped byte by byte (headers or body),
truncated, oversized, compressed, redirected or wrong; :attr:`FaultServer.default` answers
every path without a route. Every request is recorded with its headers in
:attr:`FaultServer.seen`, so tests can assert what arrived where (for example that no
``Authorization`` header followed a redirect). Every accepted TCP connection is counted in
:attr:`FaultServer.connections` (a TLS hello or garbage never becomes a request, but it
still connected), the first one's time is :attr:`FaultServer.first_connection`, and
:attr:`FaultServer.dripping` counts answers being dripped right now. With ``tls`` (a
``trustme`` CA) it speaks https with a certificate for 127.0.0.1, 127.0.0.2 and localhost.

The hostile bodies themselves are here too: :func:`gzip_bomb` (a gibibyte of zeros,
compressed to about a megabyte), :func:`deflate_bomb` and :func:`deep_json`.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from tests.support.images import Blob, Built

GIB = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names


@dataclass(frozen=True)
class Reply:
    """One canned answer.

    ``delay`` waits before answering; ``declared_length`` sends that Content-Length but only
    ``body`` and then closes the connection (a truncated body); ``chunked`` sends the body
    with chunked transfer encoding and no Content-Length at all. ``header_drip`` sends the
    status line and headers one byte every that many seconds, ``body_drip`` the body; a
    dripped answer stops when the client goes away or the server stops.
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    declared_length: int | None = None
    chunked: bool = False
    header_drip: float = 0.0
    body_drip: float = 0.0


Handler = Reply | Callable[[Seen], Reply]


def blob_reply(blob: Blob, *, head: bool = False, delay: float = 0.0) -> Reply:
    return Reply(
        200,
        b"" if head else blob.data,
        {
            "Content-Type": blob.media_type,
            "Docker-Content-Digest": blob.digest,
            "Content-Length": str(blob.size),
        },
        delay=delay,
    )


def _compressed_zeros(size: int, wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1024 * 1024)
    pieces = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(pieces) + compressor.flush()


@functools.cache
def gzip_bomb(size: int = GIB) -> bytes:
    """``size`` zero bytes, gzip-compressed (a gibibyte is about 1 MB)."""
    return _compressed_zeros(size, 16 + zlib.MAX_WBITS)


@functools.cache
def deflate_bomb(size: int = GIB) -> bytes:
    """``size`` zero bytes in the zlib format HTTP calls ``deflate``."""
    return _compressed_zeros(size, zlib.MAX_WBITS)


def deep_json() -> bytes:
    """A JSON document nested 100,000 arrays deep: valid, and too deep for ``json.loads``."""
    return b"[" * 100_000 + b"]" * 100_000


class FaultServer:
    """Serve canned registry answers on ``host`` (127.0.0.1 by default) and a free port."""

    def __init__(self, host: str = "127.0.0.1", *, tls: trustme.CA | None = None) -> None:
        self.tls = tls is not None
        self.seen: list[Seen] = []
        self.default: Handler | None = None
        self._routes: dict[tuple[str, str], Handler] = {}
        self._challenge: tuple[str, str] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.dripping = 0
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm on, the
            # client's delayed ACK held every answer back by about 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_HEAD(self) -> None:
                owner._handle(self, "HEAD")

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                owner.connections += 1
                if owner.first_connection is None:
                    owner.first_connection = time.monotonic()
                return True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that went away mid-handshake or mid-answer is expected here

        self.connections = 0
        self.first_connection: float | None = None  # time.monotonic() of the first accept
        self._server = Server((host, 0), RequestHandler)
        self._server.daemon_threads = True
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.issue_cert("127.0.0.1", "127.0.0.2", "localhost").configure_cert(context)
            # The handshake happens on the handler's thread, not in the accept loop.
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def host(self) -> str:
        address, port = self._server.server_address[:2]
        return f"{address!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` (exact, without query) with ``handler``."""
        self._routes[(method, path)] = handler

    def require_authorization(self, challenge: str, accepted: str) -> None:
        """Answer 401 with ``challenge`` unless the request sends ``Authorization: accepted``
        (every path but ``/token``, where a test may route a token service)."""
        self._challenge = (challenge, accepted)

    def serve(self, repository: str, tag: str | None, built: Built, *, delay: float = 0.0) -> None:
        """Publish ``built`` like a registry would: manifests by tag and digest, blobs; each
        answer ``delay`` seconds late (a registry that far away)."""
        base = f"/v2/{repository}"
        top = built.manifest  # an index's is the index
        for image in built.images:
            self._publish_manifest(base, image.digest, image.manifest, delay)
            for blob in image.blobs():
                self.route("GET", f"{base}/blobs/{blob.digest}", blob_reply(blob, delay=delay))
        self._publish_manifest(base, top.digest, top, delay)
        if tag is not None:
            self._publish_manifest(base, tag, top, delay)

    def publish(self, repository: str, tag: str, blob: Blob) -> None:
        """Answer the tag and the digest of ``blob`` with it (any document, valid or not)."""
        self._publish_manifest(f"/v2/{repository}", tag, blob)
        self._publish_manifest(f"/v2/{repository}", blob.digest, blob)

    def _publish_manifest(self, base: str, reference: str, blob: Blob, delay: float = 0.0) -> None:
        path = f"{base}/manifests/{reference}"
        self.route("GET", path, blob_reply(blob, delay=delay))
        self.route("HEAD", path, blob_reply(blob, head=True, delay=delay))

    def requests(self, method: str | None = None, path_part: str = "") -> list[Seen]:
        return [
            s for s in self.seen if (method is None or s.method == method) and path_part in s.path
        ]

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?", 1)[0]
        seen = Seen(method, request.path, {k.lower(): v for k, v in request.headers.items()})
        self.seen.append(seen)
        handler = self._routes.get((method, path), self.default)
        if handler is None:
            reply = Reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        elif (
            self._challenge
            and path != "/token"  # the token service itself needs no token
            and seen.headers.get("authorization") != self._challenge[1]
        ):
            reply = Reply(401, b"{}", {"WWW-Authenticate": self._challenge[0]})
        else:
            reply = handler(seen) if callable(handler) else handler
        if reply.delay and self._stopping.wait(reply.delay):
            return
        headers = dict(reply.headers)
        length = reply.declared_length if reply.declared_length is not None else len(reply.body)
        if reply.chunked:
            headers.pop("Content-Length", None)
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers.setdefault("Content-Length", str(length))
        if reply.header_drip or reply.body_drip:
            self._drip(request, method, reply, headers)
            return
        try:
            request.send_response(reply.status)
            for name, value in headers.items():
                request.send_header(name, value)
            request.end_headers()
            if method != "HEAD" and reply.chunked:
                for start in range(0, len(reply.body), 4096):
                    piece = reply.body[start : start + 4096]
                    request.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                request.wfile.write(b"0\r\n\r\n")
            elif method != "HEAD":
                request.wfile.write(reply.body)
            request.wfile.flush()
        except OSError:
            return
        if reply.declared_length is not None:
            request.close_connection = True

    def _drip(
        self,
        request: BaseHTTPRequestHandler,
        method: str,
        reply: Reply,
        headers: Mapping[str, str],
    ) -> None:
        """Send the answer byte by byte; the connection is closed afterwards."""
        phrase = HTTPStatus(reply.status).phrase
        head = f"HTTP/1.1 {reply.status} {phrase}\r\n"
        fields = {**headers, "Connection": "close"}
        head += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"
        parts = [(head.encode("latin-1"), reply.header_drip)]
        if method != "HEAD":
            parts.append((reply.body, reply.body_drip))
        request.close_connection = True
        with self._lock:
            self.dripping += 1
        try:
            for data, interval in parts:
                if not interval:
                    request.wfile.write(data)
                    continue
                for offset in range(len(data)):
                    request.wfile.write(data[offset : offset + 1])
                    if self._stopping.wait(interval):
                        return
        except OSError:
            return  # the client went away
        finally:
            with self._lock:
                self.dripping -= 1

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
