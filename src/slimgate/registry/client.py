"""The registry client: image reference + platform -> :class:`ImageMetadata`.

It reads exactly two documents per image (three for an index): the manifest and the config
blob, never a layer. The economy is deliberate, since Docker Hub counts manifest GETs
against pull limits and the webhook runs on every pod admission:

1. tag -> digest with ``HEAD`` (free on Docker Hub), remembered for ``tagTtlSeconds``;
2. manifests and configs by digest from a byte-bounded LRU cache, fetched only on a miss
   and always checked against their digest;
3. concurrent lookups of the same thing share one request (single-flight);
4. failures are remembered for ``negativeTtlSeconds``.

Points 1-3 are :class:`slimgate.registry.documents.Documents`; this module is the front:
the allow/deny lists, the negative cache, mirrors and the deadline. From a tag's digest on,
the documents are walked by :func:`slimgate.oci.walk.walk`, as the local readers walk theirs.

Mirrors for a registry are tried first, each with its own credentials (matched to the
mirror's host, never the upstream's), falling back to the registry on any error. One
deadline bounds the whole lookup, and ends it earlier when the caller runs it inside
:func:`slimgate.registry.limits.lookups_end_by`; nothing sleeps or retries. A host that keeps
running out the deadline is not asked for a while (:mod:`slimgate.registry.breaker`).

With ``registry.sharedCache`` the replicas share their answers, failures and pauses through
a Valkey/Redis store (:mod:`slimgate.registry.shared`), consulted only on a local miss.

Per-request credentials (a pod's pull secrets) go through :meth:`RegistryClient.fetch_with`
or the :meth:`RegistryClient.with_credentials` view; both share this client's caches and
connections, and the request's store is consulted before the static one, and both before
the credential programs (helpers and provider plugins), which run within the deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx

from slimgate import errors
from slimgate.errors import RateLimited, RegistryError, TimedOut
from slimgate.model import DEFAULT_PLATFORM, Descriptor, ImageMetadata, Platform
from slimgate.oci.documents import Index, Manifest
from slimgate.oci.walk import walk
from slimgate.reference import ImageReference
from slimgate.registry.addresses import AddressPolicy, Resolver, system_resolver
from slimgate.registry.auth import Authenticator
from slimgate.registry.breaker import Breaker
from slimgate.registry.cache import TTLCache
from slimgate.registry.counters import Counters, RegistryObserver
from slimgate.registry.credentials import CredentialStore
from slimgate.registry.documents import Documents
from slimgate.registry.exchange import Endpoint, Exchange
from slimgate.registry.limits import Deadline
from slimgate.registry.options import RegistryOptions
from slimgate.registry.pauses import Pauses
from slimgate.registry.shared import SharedCache
from slimgate.registry.transport import GuardedTransport, ssl_context

log = logging.getLogger("slimgate.registry")


@dataclass(frozen=True, slots=True)
class _Failure:
    """A remembered failure, re-raised as a fresh exception of the same type."""

    kind: type[RegistryError]
    message: str
    registry: str | None
    retry_after: float | None

    @classmethod
    def of(cls, exc: RegistryError) -> _Failure:
        after = exc.retry_after if isinstance(exc, RateLimited) else None
        return cls(type(exc), str(exc), exc.registry, after)

    def raise_again(self) -> None:
        if issubclass(self.kind, RateLimited):
            raise self.kind(self.message, registry=self.registry, retry_after=self.retry_after)
        raise self.kind(self.message, registry=self.registry)

    def entry(self) -> dict[str, Any]:
        """For the shared store."""
        return {
            "kind": self.kind.__name__,
            "message": self.message,
            "registry": self.registry,
            "retryAfter": self.retry_after,
        }

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> _Failure | None:
        """A failure another replica stored, or None when it is not one."""
        kind = _FAILURE_KINDS.get(str(entry.get("kind")))
        message, registry = entry.get("message"), entry.get("registry")
        after = entry.get("retryAfter")
        if (
            kind is None
            or not isinstance(message, str)
            or not isinstance(registry, str | None)
            or not isinstance(after, int | float | None)
        ):
            return None
        return cls(kind, message[:1000], registry, None if after is None else float(after))


class _Remembered(Exception):
    """Carries a failure another replica stored out of a lookup, past the mirror loop."""

    def __init__(self, failure: _Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


# The failures another replica may have stored, by name: the registry errors of our tree.
_FAILURE_KINDS: dict[str, type[RegistryError]] = {
    name: kind
    for name, kind in vars(errors).items()
    if isinstance(kind, type) and issubclass(kind, RegistryError)
}


class RegistryClient:
    """Reads image manifests and configs from OCI registries; an ``ImageSource``.

    Thread-safe: one instance serves all gunicorn threads. ``clock`` drives cache and token
    lifetimes (tests advance it); the lookup deadline uses ``time.monotonic``. ``resolver``
    replaces DNS resolution (tests map names to addresses). ``transport`` replaces the
    guarded network transport and with it the address checks: for tests with
    ``httpx.MockTransport`` only.
    """

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        credentials: CredentialStore | None = None,
        observer: RegistryObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
        shared: SharedCache | None = None,
    ) -> None:
        self.options = options or RegistryOptions()
        # Counters given as the observer are this client's counters.
        self.counters = observer if isinstance(observer, Counters) else Counters()
        self._observer: RegistryObserver = observer if observer is not None else self.counters
        self._credentials = credentials or CredentialStore.empty()
        self._policy = AddressPolicy(self.options, resolver)
        self._http = httpx.Client(
            transport=transport or GuardedTransport(self._policy, ssl_context(self.options)),
            follow_redirects=False,
            trust_env=False,
        )
        self._auth = Authenticator(self._http, self.options, self._observer, clock)
        self.shared = shared
        self.pauses = Pauses(self._observer, shared, clock)
        exchange = Exchange(self._http, self.options, self._observer, self._auth, self.pauses)
        self._documents = Documents(
            exchange, self.options, self._observer, clock, pauses=self.pauses, shared=shared
        )
        cache = self.options.cache
        self._failures: TTLCache[_Failure] = TTLCache(
            cache.negative_ttl_seconds, clock, cache.max_entries
        )
        limits = self.options.limits
        self.breaker = Breaker(limits.breaker_timeouts, limits.breaker_seconds, clock)

    @classmethod
    def from_options(
        cls,
        options: RegistryOptions,
        *,
        credentials: CredentialStore | None = None,
        observer: RegistryObserver | None = None,
        resolver: Resolver = system_resolver,
    ) -> RegistryClient:
        """The production factory: real clock, guarded transport, and the shared store when
        ``options.shared`` names one (its files are read now). ``resolver`` is DNS unless a
        test's launcher maps names to its local servers; every address it gives is still
        checked by the address policy."""
        shared = None
        if options.shared is not None:
            from slimgate.registry.redis_store import shared_cache

            observer = observer if observer is not None else Counters()
            shared = shared_cache(options.shared, observer)
        return cls(
            options, credentials=credentials, observer=observer, resolver=resolver, shared=shared
        )

    # -- ImageSource -------------------------------------------------------------------

    def fetch(self, reference: str, platform: Platform = DEFAULT_PLATFORM) -> ImageMetadata:
        return self.fetch_with(reference, platform)

    def fetch_with(
        self,
        reference: str,
        platform: Platform = DEFAULT_PLATFORM,
        *,
        credentials: CredentialStore | None = None,
    ) -> ImageMetadata:
        """Like :meth:`fetch`, with ``credentials`` consulted before the static store."""
        ref = ImageReference.parse(reference)
        store = credentials.over(self._credentials) if credentials else self._credentials
        self._policy.check_registry(ref.registry)
        targets = self._targets(ref)
        sources = tuple(store.source_of(registry, ref.repository) for _, registry in targets)
        key = (str(ref), str(platform), sources)
        failure = self._failures.get(key)
        self._observer.cache("negative", failure is not None)
        if failure is not None:
            failure.raise_again()
        miss = self._shared_miss(key, targets) if self.shared is not None else None
        deadline = Deadline.for_lookup(self.options.limits.lookup_seconds, what=str(ref))
        if deadline.seconds <= 0:  # the caller has no time left: not the registry's fault
            raise TimedOut(
                f"{ref.registry}: not looked up: no time was left before the caller's deadline",
                registry=ref.registry,
            )
        try:
            for position, (host, registry) in enumerate(targets):
                try:
                    endpoint = Endpoint(
                        host=host,
                        registry=registry,
                        repository=ref.repository,
                        credential=store.resolve(registry, ref.repository, deadline),
                        insecure=self.options.is_insecure(registry),
                    )
                    return self._guarded(reference, ref, platform, endpoint, deadline, miss)
                except RegistryError as exc:
                    if position == len(targets) - 1:
                        raise
                    log.info(
                        "mirror %s failed for %s (%s); trying the next source",
                        host,
                        ref,
                        exc,
                    )
        except _Remembered as remembered:  # another replica's failure, not ours to store
            remembered.failure.raise_again()
        except RegistryError as exc:
            failed = _Failure.of(exc)
            self._failures.put(key, failed)
            if self.shared is not None:
                ttl = self.options.cache.negative_ttl_seconds
                shared_key = self._shared_failure_key(key, targets)
                self.shared.put_failure(shared_key, failed.entry(), ttl)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _shared_failure_key(
        self, key: tuple[str, str, tuple[str, ...]], targets: list[tuple[str, str]]
    ) -> str:
        """The key of a failure in the store: the reference, platform and each source's
        host and login (as the local key has them), under the HMAC."""
        assert self.shared is not None
        hosts = tuple(
            f"{host}\0{source}" for (host, _), source in zip(targets, key[2], strict=True)
        )
        return self.shared.keyed("fail", key[0], key[1], *hosts)

    def _shared_miss(
        self, key: tuple[str, str, tuple[str, ...]], targets: list[tuple[str, str]]
    ) -> Callable[[], None]:
        """What a lookup calls when its local caches cannot answer: the store's failure
        for this lookup, if another replica met one, raised (once per lookup). A warm
        lookup never calls it, so it never reaches the store."""
        asked = False

        def miss() -> None:
            nonlocal asked
            if asked:
                return
            asked = True
            assert self.shared is not None
            shared_key = self._shared_failure_key(key, targets)
            entry = self.shared.failure(shared_key)
            if entry is None:
                return
            failure = _Failure.from_entry(entry)
            if failure is None:
                self.shared.forged(shared_key)
                return
            self._failures.put(key, failure)
            raise _Remembered(failure)

        return miss

    def with_credentials(self, credentials: CredentialStore) -> CredentialedSource:
        """An ``ImageSource`` that uses ``credentials`` first and shares this client."""
        return CredentialedSource(self, credentials)

    def close(self) -> None:
        self._http.close()
        if self.shared is not None:
            self.shared.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the lookup ----------------------------------------------------------------------

    def _targets(self, ref: ImageReference) -> list[tuple[str, str]]:
        """``(host, registry)`` of each mirror, in order, then of the registry itself; each
        is sent the credentials of its own host only."""
        mirrors = [(mirror, mirror) for mirror in self.options.mirrors_for(ref.registry)]
        return [*mirrors, (ref.endpoint, ref.registry)]

    def _guarded(
        self,
        written: str,
        ref: ImageReference,
        platform: Platform,
        endpoint: Endpoint,
        deadline: Deadline,
        miss: Callable[[], None] | None = None,
    ) -> ImageMetadata:
        """The image at ``endpoint``, through the endpoint's breaker."""
        self.breaker.enter(endpoint.host, endpoint.registry)
        try:
            stale = None
            if ref.digest:
                digest = ref.digest
            else:
                resolution = self._documents.resolve_tag(ref, endpoint, deadline, miss)
                digest, stale = resolution.digest, resolution.stale
            repository = _Repository(self._documents, endpoint, ref.name, deadline, miss)
            found = walk(repository, Descriptor("", digest, 0), platform, written=written)
        except TimedOut:
            self.breaker.timed_out(endpoint.host)
            raise
        except _Remembered:  # the host was not asked
            raise
        except BaseException:
            self.breaker.answered(endpoint.host)
            raise
        self.breaker.answered(endpoint.host)
        return found if stale is None else replace(found, notes=(*found.notes, stale))


@dataclass(frozen=True, slots=True)
class _Repository:
    """One endpoint's repository, as the documents :func:`walk` reads."""

    documents: Documents
    endpoint: Endpoint
    repository: str  # the reference's name, for messages
    deadline: Deadline
    miss: Callable[[], None] | None = None

    @property
    def label(self) -> str:
        return self.endpoint.registry

    def name(self, digest: str) -> str:
        return f"{self.repository}@{digest}"

    def manifest(self, descriptor: Descriptor) -> Manifest | Index:
        return self.documents.manifest(self.endpoint, descriptor.digest, self.deadline, self.miss)

    def config(self, descriptor: Descriptor) -> bytes:
        return self.documents.config(
            self.endpoint, descriptor.digest, descriptor.size, self.deadline, self.miss
        )


class CredentialedSource:
    """An ``ImageSource`` view of a client with extra, per-request credentials."""

    def __init__(self, client: RegistryClient, credentials: CredentialStore) -> None:
        self._client = client
        self._credentials = credentials

    def fetch(self, reference: str, platform: Platform = DEFAULT_PLATFORM) -> ImageMetadata:
        return self._client.fetch_with(reference, platform, credentials=self._credentials)
