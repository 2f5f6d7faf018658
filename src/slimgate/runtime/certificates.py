"""The serving certificate, re-read when cert-manager (or anyone) renews the mounted Secret.

A Secret mounted as a volume is updated by the kubelet's atomic symlink swap (``..data``
points to a new timestamped directory), so ``tls.crt`` and ``tls.key`` keep their paths
while the files behind them change. An expired certificate would make the apiserver's calls
fail, and with ``failurePolicy: Ignore`` every object would then be admitted unchecked.

uvicorn asks its ``ssl_context_factory`` once per worker process, when it loads its
configuration, and hands that one context to the event loop's ``create_server``. Left
alone, it would build it from the files it was started with, for as long as the process
lives. A :class:`CertificateStore` provides that context instead
(``serve.certificate_context``). Every context it hands out carries an SNI callback, which
OpenSSL runs on each ClientHello whether or not the client sent a server name (Go omits it
for IP addresses). The callback asks the store for the
current context and, when it is a newer one, switches the new connection over to it
(``SSLObject.context``; see the ``sni_callback`` notes in Python's ``ssl`` docs).

The store keeps one context and compares the signatures of both files
(:mod:`slimgate.runtime.files`, as the config watcher does), at most once a second
(``recheck_seconds``): the kubelet takes a minute or more to swap a renewed Secret in, and
four system calls on every handshake were a visible part of a new connection's cost. When
they change it loads the pair into a new context (``SSLContext.load_cert_chain`` checks that
the key matches the certificate) and swaps it in only if that succeeds; otherwise it keeps
serving the last good pair and logs why. A half-written or mismatched pair therefore never
fails a handshake. Connections already open keep their session, so in-flight and keep-alive
reviews are not disturbed and no worker is restarted.

See https://kubernetes.io/docs/concepts/configuration/secret/#mounted-secrets-are-updated-automatically
and https://cert-manager.io/docs/usage/certificate/ (renewal before expiry).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography import x509

from slimgate.errors import CertificateError
from slimgate.runtime.files import Signature, file_signature

log = logging.getLogger("slimgate.webhook")

ContextFactory = Callable[[], ssl.SSLContext]


class CertificateObserver(Protocol):
    """Told about each reload (the webhook's metrics)."""

    def reloaded(self) -> None: ...
    def rejected(self) -> None: ...


def default_factory(cert: Path, key: Path) -> ContextFactory:
    """A server context for ``cert``/``key``, without client authentication."""

    def build() -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile=cert, keyfile=key)
        return context

    return build


def describe(cert: Path) -> dict[str, str]:
    """Serial and expiry of the leaf certificate, for the log line (empty if unreadable)."""
    try:
        leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return {}
    return {"serial": f"{leaf.serial_number:x}", "notAfter": leaf.not_valid_after_utc.isoformat()}


class CertificateStore:
    """The current server context, replaced when the files change into a valid pair.

    Thread-safe: the SNI callback runs wherever a connection is set up (the event loop of
    the ``asgi`` worker, the threads of a threaded one).
    """

    def __init__(
        self,
        cert: Path,
        key: Path,
        factory: ContextFactory | None = None,
        *,
        recheck_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cert = cert
        self.key = key
        self._recheck = recheck_seconds
        self._clock = clock
        self._next_check = clock() + recheck_seconds
        self._factory = factory or default_factory(cert, key)
        self._observer: CertificateObserver | None = None
        self._lock = threading.Lock()
        self._seen = self._signature()
        try:
            self._context = self._build()
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise CertificateError(f"{cert}, {key}: {exc}") from exc

    def _build(self) -> ssl.SSLContext:
        context = self._factory()
        context.sni_callback = self._switch
        return context

    def _switch(
        self,
        connection: ssl.SSLObject | ssl.SSLSocket,
        server_name: str | None,
        used: ssl.SSLContext,
    ) -> None:
        """OpenSSL's ClientHello callback: serve a renewed pair on this new connection."""
        current = self.context()
        if current is not used:
            connection.context = current

    def observe(self, observer: CertificateObserver) -> None:
        self._observer = observer

    def _signature(self) -> tuple[Signature | None, Signature | None]:
        return (file_signature(self.cert), file_signature(self.key))

    def context(self) -> ssl.SSLContext:
        """The context for a new connection, after picking up a changed pair."""
        now = self._clock()
        if now < self._next_check:
            return self._context
        self._next_check = now + self._recheck
        if self._signature() != self._seen:
            with self._lock:
                self._check()
        return self._context

    def _check(self) -> None:
        signature = self._signature()  # before loading: a change during the load is seen later
        if signature == self._seen:
            return  # another thread got here first
        self._seen = signature
        fields: dict[str, str] = {"cert": str(self.cert), "key": str(self.key)}
        if None in signature:
            self._rejected(fields, "file missing")
            return
        try:
            context = self._build()
        except (OSError, ssl.SSLError, ValueError) as exc:
            self._rejected(fields, f"{exc.__class__.__name__}: {exc}")
            return
        self._context = context
        if self._observer is not None:
            self._observer.reloaded()
        log.info("tls certificate reloaded", extra={"fields": fields | describe(self.cert)})

    def _rejected(self, fields: dict[str, str], reason: str) -> None:
        if self._observer is not None:
            self._observer.rejected()
        log.error(
            "tls certificate not reloaded; serving the previous one",
            extra={"fields": fields | {"reason": reason[:300]}},
        )
