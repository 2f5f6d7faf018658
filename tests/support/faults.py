"""A misbehaving registry on 127.0.0.x for the cases a real registry will not produce.

:class:`FaultServer` is a threaded ``http.server`` that answers the Distribution API from a
route table: :meth:`FaultServer.serve` publishes a built image (by tag and digest, manifests
and blobs, optionally behind an auth challenge), and :meth:`FaultServer.route` overrides any
one path with a :class:`Reply` that can be slow, truncated, oversized, redirected or wrong.
Every request is recorded with its headers in :attr:`FaultServer.seen`, so tests can assert
what arrived where (for example that no ``Authorization`` header followed a redirect), and
every accepted TCP connection is counted in :attr:`FaultServer.connections` (a TLS hello or
garbage never becomes a request, but it still connected). With ``tls`` (a ``trustme`` CA) it
speaks https with a certificate for 127.0.0.1, 127.0.0.2 and localhost.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

from tests.support.images import Blob, Built, BuiltIndex


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
    with chunked transfer encoding and no Content-Length at all.
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    declared_length: int | None = None
    chunked: bool = False


Handler = Reply | Callable[[Seen], Reply]


def blob_reply(blob: Blob, *, head: bool = False) -> Reply:
    return Reply(
        200,
        b"" if head else blob.data,
        {
            "Content-Type": blob.media_type,
            "Docker-Content-Digest": blob.digest,
            "Content-Length": str(blob.size),
        },
    )


class FaultServer:
    """Serve canned registry answers on ``host`` (127.0.0.1 by default) and a free port."""

    def __init__(self, host: str = "127.0.0.1", *, tls: trustme.CA | None = None) -> None:
        self.tls = tls is not None
        self.seen: list[Seen] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._challenge: tuple[str, str] | None = None
        self._stopping = threading.Event()
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_HEAD(self) -> None:
                owner._handle(self, "HEAD")

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                owner.connections += 1
                return True

        self.connections = 0
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
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` (exact, without query) with ``handler``."""
        self._routes[(method, path)] = handler

    def require_authorization(self, challenge: str, accepted: str) -> None:
        """Answer 401 with ``challenge`` unless the request sends ``Authorization: accepted``."""
        self._challenge = (challenge, accepted)

    def serve(self, repository: str, tag: str | None, built: Built) -> None:
        """Publish ``built`` like a registry would: manifests by tag and digest, blobs."""
        base = f"/v2/{repository}"
        images = built.images if isinstance(built, BuiltIndex) else (built,)
        top = built.index if isinstance(built, BuiltIndex) else built.manifest
        for image in images:
            self._publish_manifest(base, image.digest, image.manifest)
            for blob in image.blobs():
                self.route("GET", f"{base}/blobs/{blob.digest}", blob_reply(blob))
        self._publish_manifest(base, top.digest, top)
        if tag is not None:
            self._publish_manifest(base, tag, top)

    def _publish_manifest(self, base: str, reference: str, blob: Blob) -> None:
        self.route("GET", f"{base}/manifests/{reference}", blob_reply(blob))
        self.route("HEAD", f"{base}/manifests/{reference}", blob_reply(blob, head=True))

    def requests(self, method: str | None = None, path_part: str = "") -> list[Seen]:
        return [
            s for s in self.seen if (method is None or s.method == method) and path_part in s.path
        ]

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?", 1)[0]
        seen = Seen(method, request.path, {k.lower(): v for k, v in request.headers.items()})
        self.seen.append(seen)
        handler = self._routes.get((method, path))
        if handler is None:
            reply = Reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')
        elif self._challenge and seen.headers.get("authorization") != self._challenge[1]:
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

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
