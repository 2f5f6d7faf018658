"""The shared store on Valkey or Redis, through the maintained ``redis`` client.

A store that fails must never fail admission. Every command has the short
``timeoutSeconds`` (connect and reply), the client retries nothing, and any error —
unreachable, slow, out of memory, read-only, a reply that is not what was asked for — opens
a breaker: for ``retrySeconds`` the store is not asked at all (reads find nothing, writes
are dropped, claims are granted), so a store that is down costs a lookup nothing. Then
the next command is the trial. Each change of state is one log line and the
``up``/``down`` events of the observer; every error is counted (``error``).

The store is logged in to with the password alone (``requirepass``: ``AUTH password``) or,
with ``username``, as an ACL user (``AUTH username password``). The password and the install
secret are read from files (a mounted Secret), never from the configuration itself (the url
may hold no login and no query, which the client would prefer to its arguments), and never
logged: the log line of a failure names the store by host and port and quotes the error
with the password, should it appear there, replaced by ``***``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from slimgate.errors import ConfigError
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.options import SharedCacheOptions
from slimgate.registry.shared import SharedCache, read_secret

log = logging.getLogger("slimgate.registry.shared")

T = TypeVar("T")

MAX_VALUE_BYTES = 8 * 1024 * 1024  # larger replies are garbage: documents are capped at 4 MiB


class RedisStore:
    """A :class:`slimgate.registry.shared.Store` on one Valkey/Redis server."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str,
        retry_seconds: float,
        observer: RegistryObserver,
        where: str,
        password: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._retry = retry_seconds
        self._observer = observer
        self._where = where  # host:port, for the log (no credentials)
        self._password = password  # kept out of the log lines
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until: float | None = None  # None: up
        self._down_since = 0.0

    @classmethod
    def connect(cls, options: SharedCacheOptions, observer: RegistryObserver) -> RedisStore:
        """The store ``options`` name; the connection is made on first use."""
        parts = urlsplit(options.url)
        if parts.scheme not in ("redis", "rediss"):
            raise ConfigError("registry.sharedCache.url must be redis:// or rediss://")
        if "@" in parts.netloc or parts.query or parts.fragment:
            # redis-py takes a login and ?password= from the url over its arguments
            raise ConfigError(
                "registry.sharedCache.url takes no login and no query: the user is "
                "username, the password passwordFile"
            )
        if options.username is not None and options.password_file is None:
            raise ConfigError("registry.sharedCache.username needs passwordFile")
        extra: dict[str, object] = {}
        if parts.scheme == "rediss":
            extra["ssl_cert_reqs"] = "required"
            if options.ca_file:
                extra["ssl_ca_certs"] = options.ca_file
        elif options.ca_file:
            raise ConfigError("registry.sharedCache.caFile needs a rediss:// url")
        password = read_secret(options.password_file, "password") if options.password_file else None
        try:
            client = redis.Redis.from_url(
                options.url,
                username=options.username,
                password=password,
                socket_timeout=options.timeout_seconds,
                socket_connect_timeout=options.timeout_seconds,
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
                **extra,
            )
        except (ValueError, redis.RedisError) as exc:
            raise ConfigError(f"registry.sharedCache.url is not usable: {exc}") from exc
        where = f"{parts.hostname}:{parts.port or 6379}"
        return cls(
            client,
            prefix=options.key_prefix,
            retry_seconds=options.retry_seconds,
            observer=observer,
            where=where,
            password=password,
        )

    # -- Store --------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        def get() -> bytes | None:
            value = self._redis.get(self._prefix + key)
            if value is not None and not isinstance(value, bytes):
                raise TypeError(f"GET answered {type(value).__name__}")
            if value is not None and len(value) > MAX_VALUE_BYTES:
                raise ValueError(f"GET answered {len(value)} bytes")
            return value

        return self._call("GET", get, None)

    def set(self, key: str, value: bytes, seconds: float | None) -> None:
        px = None if seconds is None else max(int(seconds * 1000), 1)
        self._call("SET", lambda: self._redis.set(self._prefix + key, value, px=px), None)

    def claim(self, key: str, seconds: float) -> bool:
        px = max(int(seconds * 1000), 1)

        def claim() -> bool:
            return bool(self._redis.set(self._prefix + key, b"1", nx=True, px=px))

        return self._call("SET NX", claim, True)

    def delete(self, key: str) -> None:
        self._call("DEL", lambda: self._redis.delete(self._prefix + key), None)

    def close(self) -> None:
        self._redis.close()

    @property
    def up(self) -> bool:
        with self._lock:
            return self._down_until is None

    # -- the breaker --------------------------------------------------------------------

    def _call(self, command: str, fn: Callable[[], T], fallback: T) -> T:
        with self._lock:
            began = self._clock()
            if self._down_until is not None and began < self._down_until:
                return fallback
        try:
            result = fn()
        except (redis.RedisError, OSError, TypeError, ValueError) as exc:
            self._failed(command, exc)
            return fallback
        self._answered(began)
        return result

    def _failed(self, command: str, exc: Exception) -> None:
        self._observer.shared("error")
        with self._lock:
            was_up = self._down_until is None
            self._down_since = self._clock()
            self._down_until = self._down_since + self._retry
        if was_up:
            self._observer.shared("down")
            log.warning(
                "shared cache %s failed (%s: %s: %s); using the local cache only, asking "
                "again in %g s",
                self._where,
                command,
                type(exc).__name__,
                self._quoted(exc),
                self._retry,
            )

    def _quoted(self, exc: Exception) -> str:
        text = str(exc)
        if self._password:
            text = text.replace(self._password, "***")
        return text[:200]

    def _answered(self, began: float) -> None:
        with self._lock:
            # A command sent before the failure that answers after it proves nothing.
            if self._down_until is None or began < self._down_since:
                return
            self._down_until = None
        self._observer.shared("up")
        log.warning("shared cache %s answers again", self._where)


def shared_cache(options: SharedCacheOptions, observer: RegistryObserver) -> SharedCache:
    """The shared cache ``options`` configure: the install secret read now."""
    secret = read_secret(options.secret_file, "secret").encode()
    store = RedisStore.connect(options, observer)
    return SharedCache(
        store,
        secret,
        observer,
        lock_seconds=options.lock_seconds,
        wait_seconds=options.wait_seconds,
    )
