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
- **too many connections**: a connection set up while ``max_connections`` others are open
  is closed at once, so memory stays bounded whatever a client opens (each open TLS
  connection costs roughly 30 KB);
- **a TLS handshake that never finishes**: :func:`new_event_loop` makes uvloop's
  ``create_server`` default to a handshake timeout of ``DEFAULT_HANDSHAKE_TIMEOUT`` seconds
  (uvloop's own default is 60 s).

The request body's deadline is the ASGI front's (``asgi.read_body``), because it depends on
the review deadline.

The settings travel on :class:`LimitedConfig`, a uvicorn ``Config`` with two more fields,
so that worker processes started by uvicorn's supervisor get them with the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import uvloop
from uvicorn import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from uvicorn.server import ServerState

log = logging.getLogger("slimgate.webhook")

DEFAULT_HEADER_TIMEOUT = 5.0
DEFAULT_HANDSHAKE_TIMEOUT = 5.0
DEFAULT_MAX_CONNECTIONS = 1000

_TIMEOUT_TEXT = b"the request head did not arrive in time\n"
_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n%s" % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
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

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            _refusals.refused(self.max_connections)
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        self._head_begun = True
        self._arm_head_timer()  # a later request on a kept-alive connection
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        self._head_begun = False
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


class BoundedLoop(uvloop.Loop):
    """uvloop with a short default for the TLS handshake of accepted connections."""

    handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT

    async def create_server(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> asyncio.AbstractServer:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_handshake_timeout", self.handshake_timeout)
        return await super().create_server(*args, **kwargs)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvicorn's ``loop`` setting: an event loop factory (see :class:`BoundedLoop`)."""
    return BoundedLoop()
