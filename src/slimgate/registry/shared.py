"""What the replicas share: the registry client's answers, kept in a Valkey/Redis store.

Every webhook replica and the operator keep their own in-process caches; without a shared
store each of them fetches a new image once, and again after every restart. With
``registry.sharedCache`` they consult the store on a local miss (the local caches stay
first, so the warm path does not change) and write what they fetched:

- manifests and configs by digest, content-addressed: the digest is **verified on every
  read**, so a corrupted or forged entry is ignored, deleted and counted, never trusted;
- tag -> digest, with the time it was resolved, kept for ``tagTtlSeconds`` plus
  ``staleGraceSeconds``, and failures for ``negativeTtlSeconds``. Their keys are an HMAC
  (keyed with the install secret) of the registry, repository, tag and login, so no key
  reveals a credential, and one login's answer is never found under another's key;
- pauses: a registry that answered 429 with ``Retry-After`` is paused for every replica;
- claims: the first replica to miss claims the fetch (``SET NX PX``) and the others wait a
  bounded time for its result, then fetch themselves if it did not arrive.

Whoever can write to the store can steer tag -> digest answers (a digest is verified, a
tag's digest cannot be): the store needs AUTH, TLS and a NetworkPolicy (see the README).

:class:`Store` is the byte store (:class:`slimgate.registry.redis_store.RedisStore`, a dict
in unit tests); a store that fails answers "nothing there" and never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from slimgate.errors import ConfigError, DigestMismatch, InvalidReference, Unsupported
from slimgate.oci.documents import verify_digest
from slimgate.reference import validate_digest
from slimgate.registry.cache import Content
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.limits import Deadline
from slimgate.registry.options import SharedCacheOptions

T = TypeVar("T")

POLL_SECONDS = 0.02  # how often a waiting replica looks for another's result


def read_secret(path: str, what: str) -> str:
    """The content of a mounted Secret's file, stripped; :class:`ConfigError` otherwise."""
    try:
        text = Path(path).read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"registry.sharedCache: cannot read the {what} file {path}: {exc}"
        ) from exc
    if not text:
        raise ConfigError(f"registry.sharedCache: the {what} file {path} is empty")
    return text


def check_files(options: SharedCacheOptions) -> None:
    """Read the install secret and the password now, so that a missing file is a usage
    error at start, before anything is looked up."""
    read_secret(options.secret_file, "secret")
    if options.password_file:
        read_secret(options.password_file, "password")


class Store(Protocol):
    """Bytes by key with an expiry; never raises (a failing store finds nothing)."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, seconds: float | None) -> None:
        """Store ``value``; ``seconds`` None: no expiry (content by digest)."""

    def claim(self, key: str, seconds: float) -> bool:
        """``SET key NX PX``: True when this caller holds the claim, or the store cannot
        tell (it is down: the caller does the work itself)."""

    def delete(self, key: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class KnownTag:
    """A tag's digest as some replica resolved it, ``age`` seconds ago."""

    digest: str
    age: float


class SharedCache:
    """The registry client's view of the shared store: typed, verified, keyed.

    ``wall`` is the wall clock the replicas agree on (tag ages, pauses); ``sleep`` is what
    a waiting replica sleeps with between looks at the key.
    """

    def __init__(
        self,
        store: Store,
        secret: bytes,
        observer: RegistryObserver,
        *,
        lock_seconds: float = 5.0,
        wait_seconds: float = 1.0,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._secret = secret
        self._observer = observer
        self._lock_seconds = lock_seconds
        self._wait_seconds = wait_seconds
        self._wall = wall
        self._sleep = sleep

    def close(self) -> None:
        self._store.close()

    # -- keys ---------------------------------------------------------------------------

    def keyed(self, kind: str, *parts: str) -> str:
        """``kind:HMAC(secret, parts)``: reveals nothing of the parts, a login included."""
        material = "\0".join(parts).encode()
        return f"{kind}:{hmac.new(self._secret, material, hashlib.sha256).hexdigest()}"

    # -- content by digest --------------------------------------------------------------

    def content(self, digest: str, *, count: bool = True) -> Content | None:
        """The document ``digest`` from the store, only if its bytes have that digest
        (``count``: report a miss; a replica polling for another's result does not)."""
        key = f"blob:{digest}"
        raw = self._store.get(key)
        if raw is None:
            if count:
                self._observer.shared("miss")
            return None
        media_type, sep, body = raw.partition(b"\n")
        try:
            if not sep:
                raise DigestMismatch("no media type line")
            verify_digest(body, digest, what=f"shared entry {digest}", registry="shared cache")
            content = Content(media_type.decode("utf-8"), body)
        except (DigestMismatch, Unsupported, UnicodeDecodeError):
            self.forged(key)
            return None
        self._observer.shared("hit")
        return content

    def put_content(self, digest: str, content: Content) -> None:
        body = content.media_type.encode("utf-8") + b"\n" + content.body
        self._store.set(f"blob:{digest}", body, None)
        self._observer.shared("write")

    # -- tags ---------------------------------------------------------------------------

    def tag(self, key: str) -> KnownTag | None:
        """The digest stored under ``key`` (:meth:`keyed`) and how old it is."""
        raw = self._store.get(key)
        if raw is None:
            self._observer.shared("miss")
            return None
        try:
            entry = json.loads(raw)
            digest, at = str(entry["digest"]), float(entry["at"])
            validate_digest(digest)
        except (ValueError, KeyError, TypeError, InvalidReference):
            self.forged(key)
            return None
        self._observer.shared("hit")
        return KnownTag(digest, max(self._wall() - at, 0.0))

    def put_tag(self, key: str, digest: str, seconds: float) -> None:
        if seconds <= 0:
            return
        value = json.dumps({"digest": digest, "at": self._wall()}).encode()
        self._store.set(key, value, seconds)
        self._observer.shared("write")

    # -- failures -----------------------------------------------------------------------

    def failure(self, key: str) -> dict[str, Any] | None:
        """A remembered failure: a JSON object the caller checks, or None."""
        raw = self._store.get(key)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            self.forged(key)
            return None
        return entry

    def put_failure(self, key: str, entry: dict[str, Any], seconds: float) -> None:
        if seconds > 0:
            self._store.set(key, json.dumps(entry).encode(), seconds)

    # -- pauses -------------------------------------------------------------------------

    def paused_for(self, host: str) -> float:
        """Seconds ``host`` stays paused for every replica (0: not paused)."""
        raw = self._store.get(f"pause:{host}")
        if raw is None:
            return 0.0
        try:
            until = float(raw)
        except ValueError:
            self.forged(f"pause:{host}")
            return 0.0
        return max(until - self._wall(), 0.0)

    def pause(self, host: str, seconds: float) -> None:
        if seconds > 0:
            self._store.set(f"pause:{host}", str(self._wall() + seconds).encode(), seconds)

    # -- one fetch for every replica ----------------------------------------------------

    def once(
        self,
        key: str,
        read: Callable[[], T | None],
        fetch: Callable[[], T],
        deadline: Deadline,
    ) -> T:
        """``fetch()`` here if this replica claims ``key``; else wait (at most
        ``wait_seconds`` and the deadline) for another's result to appear in ``read()``,
        and fetch here if it does not arrive or the other gives up."""
        lock = f"lock:{key}"
        if self._store.claim(lock, self._lock_seconds):
            try:
                # Another replica may have written the result and released its claim
                # between this replica's first look and its claim.
                found = read()
                return found if found is not None else fetch()
            finally:
                self._store.delete(lock)
        self._observer.shared("wait")
        end = time.monotonic() + min(self._wait_seconds, deadline.remaining() / 2)
        while time.monotonic() < end:
            self._sleep(POLL_SECONDS)
            found = read()
            if found is not None:
                return found
            if self._store.get(lock) is None:  # the other replica is done: with a result
                found = read()  # written just before its claim was released, or none
                if found is not None:
                    return found
                break
        self._observer.shared("wait-expired")
        return fetch()

    def forged(self, key: str) -> None:
        """The entry at ``key`` is unusable: delete and count it."""
        self._store.delete(key)
        self._observer.shared("forged")
