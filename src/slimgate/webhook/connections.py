"""What one connection may cost the webhook: timeouts and a cap, on top of uvicorn's HTTP/1.

uvicorn (``httptools`` parser, uvloop, TLS by Python's ``ssl``) keeps an idle keep-alive
connection for ``timeout_keep_alive`` seconds and stops there. Three things a hostile or
broken client can do are left to the application, and :class:`BoundedHttpProtocol` (a
subclass of uvicorn's ``HttpToolsProtocol``, passed as uvicorn's ``http`` protocol class)
bounds them:

- **a request head that never ends** (slowloris): from the first byte of a request head,
  or from the moment a new connection is set up, the whole head must arrive within
  ``header_timeout`` seconds. A connection that sent part of a head then gets a ``408
  Request Timeout`` and is closed; one that sent nothing is closed without an answer (an
  unasked-for response confuses HTTP clients that reuse connections);
- **a request head that never stops growing**: a head that goes on for more than
  ``MAX_HEAD_BYTES`` after the read in which it began gets a ``431 Request Header Fields Too
  Large`` and the connection is closed (httptools itself has no limit, so without this a
  client could send headers for the whole head timeout);
- **too many connections**: a connection set up while ``max_connections`` others are open
  is closed at once, so memory stays bounded whatever a client opens (each open TLS
  connection costs roughly 60 KB);
- **a TLS handshake that never finishes**: :func:`new_event_loop` makes uvloop's
  ``create_server`` default to a handshake timeout of ``DEFAULT_HANDSHAKE_TIMEOUT`` seconds
  (uvloop's own default is 60 s), and to ``SHUTDOWN_TIMEOUT`` seconds for the TLS shutdown
  of a connection the server closes (uvloop waits 30 s for the peer's ``close_notify``, and
  a connection that does not read would keep its buffers, and its place under the cap, for
  that long). A connection refused by the cap, or closed because it never sent a byte, is
  aborted at once instead: there is nothing to flush to it.

The request body's deadline is the ASGI front's (``asgi.read_body``), because it depends on
the review deadline.

The settings travel on :class:`LimitedConfig`, a uvicorn ``Config`` with two more fields,
so that worker processes started by uvicorn's supervisor get them with the rest.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvloop
from uvicorn import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from uvicorn.server import ServerState

log = logging.getLogger("slimgate.webhook")

DEFAULT_HEADER_TIMEOUT = 5.0
DEFAULT_HANDSHAKE_TIMEOUT = 5.0
SHUTDOWN_TIMEOUT = 2.0  # for the peer's TLS close_notify; uvloop's own default is 30 s
DEFAULT_MAX_CONNECTIONS = 1000
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; the apiserver sends a few hundred bytes


def _closing_answer(status: bytes, text: bytes) -> bytes:
    """A plain-text answer to send before closing the connection."""
    return b"HTTP/1.1 %s\r\ncontent-type: text/plain; charset=utf-8\r\n" % status + (
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(text), text)
    )


_REQUEST_TIMEOUT = _closing_answer(
    b"408 Request Timeout", b"the request head did not arrive in time\n"
)
_HEAD_TOO_LARGE = _closing_answer(
    b"431 Request Header Fields Too Large",
    b"the request head is larger than %d bytes\n" % MAX_HEAD_BYTES,
)


class LimitedConfig(Config):
    """uvicorn's ``Config`` plus the bounds :class:`BoundedHttpProtocol` enforces."""

    def __init__(
        self,
        *args: Any,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_connections = max_connections


class _RefusalLog:
    """At most one log line per interval about refused connections, with the count."""

    def __init__(self, interval: float = 10.0) -> None:
        self._interval = interval
        self._next = 0.0
        self._count = 0

    def refused(self, limit: int) -> None:
        self._count += 1
        now = time.monotonic()
        if now >= self._next:
            log.warning(
                "connection limit reached; new connections are closed",
                extra={"fields": {"maxConnections": limit, "refused": self._count}},
            )
            self._next = now + self._interval
            self._count = 0


_refusals = _RefusalLog()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


class _Trimmer:
    """Gives freed heap back to the system some seconds after many connections closed.

    A burst of connections (a slowloris, a reconnect storm) leaves glibc's heap full of free
    chunks that it keeps resident; later connections reuse them, but RSS stays at the peak.
    ``malloc_trim(0)`` returns the free pages; it walks the heap, so it runs at most once per
    ``delay`` seconds and only after ``closed`` connections went away since the last time.
    """

    def __init__(self, closed: int = 200, delay: float = 10.0) -> None:
        self._trim = _malloc_trim()
        self._closed = closed
        self._delay = delay
        self._count = 0
        self._scheduled = False

    def closed(self, loop: asyncio.AbstractEventLoop) -> None:
        self._count += 1
        if self._trim is not None and not self._scheduled and self._count >= self._closed:
            self._scheduled = True
            loop.call_later(self._delay, self._run)

    def _run(self) -> None:
        self._scheduled = False
        self._count = 0
        if self._trim is not None:
            self._trim(0)


_trimmer = _Trimmer()


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a request-head deadline and a connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = float(getattr(config, "header_timeout", DEFAULT_HEADER_TIMEOUT))
        self.max_connections = int(getattr(config, "max_connections", DEFAULT_MAX_CONNECTIONS))
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_begun = False
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            _refusals.refused(self.max_connections)
            transport.abort()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)
        _trimmer.closed(self.loop)

    def data_received(self, data: bytes) -> None:
        continued = self._head_begun  # this read continues a head begun in an earlier one
        super().data_received(data)
        if not self._head_begun or self.transport.is_closing():
            return  # no head left incomplete: the usual case, a whole request in one read
        self._arm_head_timer()  # a later request on a kept-alive connection
        if continued:
            # every byte of this read was head (the first read of a head may also hold the
            # end of a pipelined request before it, so it is not counted)
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._disarm_head_timer()
                self.transport.write(_HEAD_TOO_LARGE)
                self.transport.close()

    def on_message_begin(self) -> None:
        self._head_begun = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._head_begun = False
        self._head_bytes = 0
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_begun:
            self.transport.write(_REQUEST_TIMEOUT)
            self.transport.close()
        else:
            self.transport.abort()


class BoundedLoop(uvloop.Loop):
    """uvloop with short defaults for the TLS handshake and shutdown of accepted connections."""

    handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT

    async def create_server(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> asyncio.AbstractServer:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_handshake_timeout", self.handshake_timeout)
            kwargs.setdefault("ssl_shutdown_timeout", SHUTDOWN_TIMEOUT)
        return await super().create_server(*args, **kwargs)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop`` setting: an event loop factory (see :class:`BoundedLoop`)."""
    return BoundedLoop()
