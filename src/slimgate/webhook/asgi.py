"""The ASGI application that ``slimgate serve`` runs under uvicorn.

``POST /validate`` is answered here, on the worker's event loop. Every other request
(``/healthz``, ``/readyz``, ``/metrics``, and the 404s and 405s) goes to the Flask app
through a2wsgi's WSGI-to-ASGI bridge.

Why the admission route skips the bridge. Every review the apiserver sends comes through
this route. On the warm path (all images in the decision memo) a review costs the server
well under a millisecond of CPU. A hand-off to a thread per request, which is what a WSGI
bridge or a threaded worker does, would cost as much as the review itself. So the front
does two things:

- it reads the body with the size limit checked first: a declared ``Content-Length`` over
  the limit is refused before any byte is read, and a body without a length is refused
  as soon as it passes the limit (with ``Connection: close``, since the unread rest of the
  body makes the connection unusable);
- it calls ``AdmissionHandler.begin`` inline, which is CPU work only.

Only a review that has to ask registries or the Kubernetes API (``Begun``) goes to the
``review_threads`` pool. That pool bounds how many such reviews wait at once, as the
threads of a threaded worker did before.

Two exceptions keep the loop free for everyone else:

- the body must arrive within ``body_timeout`` seconds (the review deadline): a client that
  stops sending gets a 408 with ``Connection: close`` instead of holding its connection and
  its buffered bytes until the server gives up on it;
- a body over ``INLINE_LIMIT`` bytes is parsed and reviewed on the ``review_threads`` pool
  from the start. A Pod of normal size is a few kilobytes; a body of megabytes takes tens
  of milliseconds or more of CPU, and on the loop it would stall ``/healthz`` and every other
  connection for that long. On a thread the loop still gets the interpreter every few
  milliseconds (Python's switch interval).
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, cast

from a2wsgi import WSGIMiddleware
from flask import Flask

from slimgate.webhook.handler import AdmissionHandler, Answer, Begun

if TYPE_CHECKING:
    from a2wsgi.asgi_typing import HTTPScope, Receive, Scope, Send
    from a2wsgi.wsgi_typing import WSGIApp

log = logging.getLogger("slimgate.webhook")

PATH = "/validate"
INLINE_LIMIT = 64 * 1024  # larger bodies are reviewed on a thread, not on the loop
_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")


class _Disconnected(Exception):
    """The client went away before its request body arrived."""


async def read_body(
    scope: HTTPScope, receive: Receive, limit: int, timeout: float | None = None
) -> bytes | None:
    """The request body, or None when it is (or says it is) larger than ``limit``.

    Raises :class:`TimeoutError` when the whole body has not arrived within ``timeout``
    seconds, and :class:`_Disconnected` when the client went away first.
    """
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                if int(value) > limit:
                    return None
            except ValueError:
                pass  # the server refuses malformed lengths; read up to the limit anyway
            break
    async with asyncio.timeout(timeout):
        parts: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            part = cast("bytes", message.get("body", b""))
            total += len(part)
            if total > limit:
                return None
            parts.append(part)
            if not message.get("more_body", False):
                return part if len(parts) == 1 else b"".join(parts)


async def _send(send: Send, status: int, body: bytes, *, close: bool) -> None:
    headers = [_JSON, (b"content-length", str(len(body)).encode()), *([_CLOSE] if close else [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class WebhookAsgi:
    """The webhook app as ASGI: the admission route natively, the rest through Flask."""

    def __init__(
        self,
        app: Flask,
        *,
        review_threads: int = 16,
        fallback_threads: int = 4,
        body_timeout: float = 4.0,
    ):
        handler = app.extensions["slimgate"]["handler"]
        if not isinstance(handler, AdmissionHandler):
            raise TypeError("the Flask app was not built by slimgate.webhook.app.create_app")
        self.flask = app
        self._handler = handler
        self.body_timeout = body_timeout
        self._reviews = ThreadPoolExecutor(review_threads, thread_name_prefix="slimgate-review")
        self._fallback = WSGIMiddleware(cast("WSGIApp", app), workers=fallback_threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST":
            await self._validate(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._fallback(scope, receive, send)

    async def _validate(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        try:
            data = await read_body(scope, receive, self._handler.limit, self.body_timeout)
        except _Disconnected:
            return
        except TimeoutError:
            await self._timed_out(send)
            return
        if data is not None and len(data) > INLINE_LIMIT:
            loop = asyncio.get_running_loop()
            answer: Answer | Begun = await loop.run_in_executor(self._reviews, self._handler, data)
        else:
            answer = self._handler.begin(data)
        if isinstance(answer, Begun):
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self._reviews, self._handler.complete, answer)
        # The rest of an oversized body was never read: the server closes the connection
        # after this answer, and the client must know not to send another request on it.
        await _send(send, *answer, close=data is None)

    async def _timed_out(self, send: Send) -> None:
        """408 for a body that stopped arriving; the connection cannot be reused."""
        reason = f"the request body did not arrive within {self.body_timeout:g} s"
        log.warning("request timeout", extra={"fields": {"reason": reason}})
        body = json.dumps({"error": "request timeout", "reason": reason}).encode()
        await _send(send, 408, body, close=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._reviews.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return
