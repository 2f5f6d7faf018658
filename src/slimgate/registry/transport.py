"""An httpx transport that connects only to addresses the :class:`AddressPolicy` approved.

httpx resolves host names inside httpcore at connect time, so checking a host beforehand
would leave a window for DNS rebinding (one answer for the check, another for the
connection). This transport (httpx's own, on another pool) gives httpcore a network backend
that resolves the host itself, runs the policy over every address, and opens the TCP
connection to one of those very addresses; TLS still verifies the certificate against the
host name (httpcore passes the origin host as ``server_hostname``). Every connection,
whether to a registry, a mirror, a token realm or a redirect target, passes through it.

:func:`ssl_context` builds the TLS trust every connection uses: the default CA store plus
``registry.caBundle``.

Name resolution uses the system resolver. It and the connection attempts to each address
share the connect timeout, which is what is left of the lookup deadline
(``addresses.BoundedResolution``). Proxies from the environment are not used.

httpcore gives each socket operation its own timeout, so a server that sends one byte
just before each timeout would hold a request for as long as it likes (headers, bodies,
the TLS handshake). A request that carries the lookup's deadline
(:data:`slimgate.registry.limits.DEADLINE_EXTENSION`) is therefore bounded as a whole:
every connect, TLS handshake, read and write made for it, including the reads of its body
after the headers arrived, gets at most what is left until that moment, and none starts
after it. (CPython bounds a TLS handshake by one timeout overall, not per socket read.)
"""

from __future__ import annotations

import contextlib
import ssl
import time
import typing
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

import certifi
import httpcore
import httpx

from slimgate.errors import ConfigError
from slimgate.registry.addresses import AddressPolicy
from slimgate.registry.limits import DEADLINE_EXTENSION
from slimgate.registry.options import RegistryOptions

_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


# The deadline of the request whose socket operations run now (set by GuardedTransport
# around each call into httpcore; None: httpcore's own timeouts only).
_DEADLINE: ContextVar[float | None] = ContextVar("slimgate_request_deadline", default=None)


@contextlib.contextmanager
def _until(deadline: float | None) -> Iterator[None]:
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the current request's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the lookup deadline has passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve with the policy, then connect to a checked address."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.NetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        # One budget for the name and every address tried: what the lookup has left.
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        end = None if timeout is None else time.monotonic() + timeout
        addresses = self._policy.addresses(host, port, timeout=timeout)
        error: Exception | None = None
        for address, address_port in addresses:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"no time left to connect to {host}:{port}")
            try:
                stream = self._inner.connect_tcp(
                    address,
                    address_port,
                    timeout=left,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the registry client")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """A response body whose every read ends by the request's deadline."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: float | None) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            # The deadline is set around each step only, never across a yield.
            with _until(self._deadline):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        with _until(self._deadline):
            self._inner.close()


def ssl_context(options: RegistryOptions) -> ssl.SSLContext:
    """The default CA store plus ``options.ca_bundle`` when given."""
    context = ssl.create_default_context(cafile=certifi.where())
    if options.ca_bundle:
        try:
            context.load_verify_locations(cafile=options.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"registry.caBundle {options.ca_bundle}: {exc}") from exc
    return context


class GuardedTransport(httpx.HTTPTransport):
    """httpx's HTTP/1.1 transport, with every TCP connection approved by the policy.

    httpx takes no network backend, so this replaces the one private attribute
    ``HTTPTransport._pool`` (the ``httpcore.ConnectionPool`` that every method of the
    transport goes through; httpx 0.28 and 0.29) with a pool on :class:`GuardedBackend`.
    If an httpx release keeps its pool elsewhere, construction fails rather than connect
    unguarded. Mapping httpcore's exceptions to httpx's stays httpx's own code.
    """

    def __init__(self, policy: AddressPolicy, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        unguarded = getattr(self, "_pool", None)
        if not isinstance(unguarded, httpcore.ConnectionPool):
            raise TypeError("httpx.HTTPTransport keeps no _pool: the address guard cannot apply")
        unguarded.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=64,
            max_keepalive_connections=16,
            keepalive_expiry=30.0,
            retries=0,
            network_backend=GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = request.extensions.get(DEADLINE_EXTENSION)
        with _until(deadline):
            response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _DeadlineBody(response.stream, deadline)
        return response
