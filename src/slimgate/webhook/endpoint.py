"""``POST /validate`` as a plain WSGI callable in front of the Flask app.

Every admission review the apiserver sends goes through this one route, and Flask's
per-request machinery (request context, URL adapter, request and response objects,
signals) cost more CPU than the warm-path review itself (about 170 µs against well under
that for a review whose images are memoised; see ``bench/bench_webhook.py``). So the hot
route reads the body from the WSGI environment (PEP 3333) with the size limit applied
before reading, and hands back bytes; every other path and method goes to Flask
unchanged (``GET /validate`` still gets Flask's 405).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# The body, or None when it is larger than the limit -> HTTP status and JSON body.
Handler = Callable[[bytes | None], tuple[int, bytes]]

PATH = "/validate"
_STATUS = {200: "200 OK", 400: "400 Bad Request"}
_CHUNK = 65536


def read_body(environ: WSGIEnvironment, limit: int) -> bytes | None:
    """The request body, or None when it is (or says it is) larger than ``limit``."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size > limit:
            return None
        if size >= 0:
            return bytes(stream.read(size))
    parts: list[bytes] = []  # chunked, or no usable length: read to the end, up to the limit
    total = 0
    while True:
        part = stream.read(min(_CHUNK, limit + 1 - total))
        if not part:
            return b"".join(parts)
        parts.append(part)
        total += len(part)
        if total > limit:
            return None


class ValidateEndpoint:
    """Answers ``POST /validate`` with ``handle``; passes anything else to ``fallback``."""

    def __init__(self, handle: Handler, fallback: WSGIApplication, limit: Callable[[], int]):
        self._handle = handle
        self._fallback = fallback
        self._limit = limit

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self._fallback(environ, start_response)
        status, body = self._handle(read_body(environ, self._limit()))
        start_response(
            _STATUS.get(status, f"{status} Status"),
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]
