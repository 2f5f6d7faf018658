"""Clients that misbehave on purpose, over real TLS, for the webhook's connection tests.

Each helper opens its own sockets with the standard library (``socket`` and ``ssl``), so the
bytes on the wire are exactly the ones written here: half a request head, a body that stops,
a pipelined pair of requests, a connection that goes away mid-body. ``churn`` is the kubelet's
pattern (a new TLS connection per probe, one ``GET``, then close) repeated many times.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """Where the server listens and which CA it is trusted by."""

    host: str
    port: int
    ca: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def tcp(self, timeout: float = 10.0) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def tls(self, timeout: float = 10.0) -> ssl.SSLSocket:
        """A TLS connection with the handshake done (SNI ``localhost``, as the test certs)."""
        raw = self.tcp(timeout)
        try:
            return self.context().wrap_socket(raw, server_hostname="localhost")
        except BaseException:
            raw.close()
            raise


def read_response(sock: ssl.SSLSocket | socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a ``Content-Length`` body: status, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a complete response head: {data[:200]!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = (line.partition(":") for line in lines[1:])
    headers = {name.strip().lower(): value.strip() for name, _, value in fields}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a response body")
        body += chunk
    return status, headers, body[:length]


def closed_by_server(sock: ssl.SSLSocket | socket.socket, within: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), or None if it was still open
    after ``within`` seconds. Any bytes the server sends meanwhile are read and dropped."""
    started = time.monotonic()
    deadline = started + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return time.monotonic() - started
        except TimeoutError:
            return None
        except (ssl.SSLError, OSError):
            return time.monotonic() - started


def request_bytes(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    fields = {"Content-Type": "application/json"} if body or length is not None else {}
    fields |= headers or {}
    if body or length is not None:
        fields.setdefault("Content-Length", str(len(body) if length is None else length))
    lines += [f"{name}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(frozen=True)
class ChurnResult:
    connections: int
    failures: int
    seconds: float


def churn(target: Target, count: int, threads: int = 4, path: str = "/healthz") -> ChurnResult:
    """``count`` TLS connections, each one ``GET`` (keep-alive, as a probe sends it), the
    answer read, then closed by the client, from ``threads`` threads at once."""
    context = target.context()
    request = request_bytes("GET", path)

    def answered(_: int) -> bool:
        try:
            with (
                target.tcp() as raw,
                context.wrap_socket(raw, server_hostname="localhost") as sock,
            ):
                sock.sendall(request)
                return read_response(sock)[0] == 200
        except OSError:  # refused, reset, or cut short (read_response's ConnectionError)
            return False

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        failures = list(pool.map(answered, range(count))).count(False)
    return ChurnResult(count, failures, time.monotonic() - started)


@contextlib.contextmanager
def held(sockets: list[socket.socket]) -> Iterator[list[socket.socket]]:
    """Close every socket in ``sockets`` on the way out, whatever happened."""
    try:
        yield sockets
    finally:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []
