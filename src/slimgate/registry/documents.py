"""Reading one registry document: a tag's digest, a manifest or index, a config blob.

The client's economy lives here (see :mod:`slimgate.registry.client` for why): a tag is
resolved with ``HEAD`` and remembered for ``tagTtlSeconds`` per login; manifests and configs
are kept by digest in a byte-bounded LRU and fetched only on a miss, always checked against
their digest (github.com/opencontainers/image-spec, descriptor.md); concurrent requests for
the same document share one exchange (single-flight). Every request goes through
:class:`slimgate.registry.exchange.Exchange`.

With a shared store (:mod:`slimgate.registry.shared`) a local miss asks the store next,
and only then the registry, once for every replica; what is fetched is written there. A tag
answer is kept past its TTL for ``staleGraceSeconds``: while its registry is paused or
nearly out of its rate-limit budget (:mod:`slimgate.registry.pauses`) it is used, and the
lookup says it is stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slimgate.errors import InvalidReference, RateLimited, TooLarge
from slimgate.oci.documents import (
    ACCEPT,
    Index,
    Manifest,
    digest_of,
    parse_document,
    verify_digest,
)
from slimgate.reference import ImageReference, validate_digest
from slimgate.registry.cache import Content, ContentCache, TTLCache
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.exchange import Endpoint, Exchange
from slimgate.registry.flight import SingleFlight
from slimgate.registry.limits import Deadline
from slimgate.registry.options import RegistryOptions
from slimgate.registry.pauses import Pauses
from slimgate.registry.shared import SharedCache


@dataclass(frozen=True, slots=True)
class _Resolved:
    digest: str
    at: float  # when it was resolved, on the client's clock


@dataclass(frozen=True, slots=True)
class Resolution:
    """A tag's digest; ``stale`` says why it is used past its TTL, when it is."""

    digest: str
    stale: str | None = None


class Documents:
    """Cached, single-flight, digest-checked reads of manifests and config blobs."""

    def __init__(
        self,
        exchange: Exchange,
        options: RegistryOptions,
        observer: RegistryObserver,
        clock: Callable[[], float],
        *,
        pauses: Pauses,
        shared: SharedCache | None = None,
    ) -> None:
        self._exchange = exchange
        self._options = options
        self._observer = observer
        self._clock = clock
        self._pauses = pauses
        self._shared = shared
        cache = options.cache
        self._ttl = cache.tag_ttl_seconds
        self._kept = cache.tag_ttl_seconds + cache.stale_grace_seconds
        self._content = ContentCache(cache.max_bytes)
        self._tags: TTLCache[_Resolved] = TTLCache(self._kept, clock, cache.max_entries)
        self._tag_flight: SingleFlight[Resolution] = SingleFlight()
        self._content_flight: SingleFlight[Content] = SingleFlight()

    def resolve_tag(
        self,
        ref: ImageReference,
        endpoint: Endpoint,
        deadline: Deadline,
        miss: Callable[[], None] | None = None,
    ) -> Resolution:
        """The digest ``ref``'s tag points to (HEAD, or GET and hash), cached per login.
        ``miss`` is called when the local cache cannot answer (it may raise)."""
        tag = ref.tag or "latest"
        key = (ref.name, tag, endpoint.fingerprint())  # one login's answer is not another's
        cached = self._fresh(key)
        self._observer.cache("tag", cached is not None)
        if cached is not None:
            return Resolution(cached)
        if miss is not None:
            miss()

        def resolve() -> Resolution:
            again = self._fresh(key)
            if again is not None:
                return Resolution(again)
            return self._resolve(ref, tag, endpoint, deadline, key)

        flight_key = ("tag", endpoint.host, ref.repository, tag, endpoint.fingerprint())
        return self._tag_flight.do(flight_key, resolve)

    def _fresh(self, key: tuple[str, str, str]) -> str | None:
        known = self._tags.get(key)
        if known is None or self._clock() - known.at >= self._ttl:
            return None
        return known.digest

    def _resolve(
        self,
        ref: ImageReference,
        tag: str,
        endpoint: Endpoint,
        deadline: Deadline,
        key: tuple[str, str, str],
    ) -> Resolution:
        """A local miss: the shared store, else the registry (once for every replica);
        a stale answer while the registry is held back."""
        shared = self._shared
        local = self._tags.get(key)
        stale_age = self._clock() - local.at if local is not None else None
        stale_digest = local.digest if local is not None else None
        shared_key = ""
        if shared is not None:
            shared_key = shared.keyed(
                "tag", endpoint.host, endpoint.repository, tag, endpoint.fingerprint()
            )
            known = shared.tag(shared_key)
            if known is not None and known.age < self._ttl:
                self._tags.put(key, _Resolved(known.digest, self._clock() - known.age))
                return Resolution(known.digest)
            if (
                known is not None
                and known.age < self._kept
                and (stale_age is None or known.age < stale_age)
            ):
                stale_age, stale_digest = known.age, known.digest

        def stale(why: str) -> Resolution | None:
            if stale_digest is None or stale_age is None or stale_age >= self._kept:
                return None
            self._observer.cache("tag-stale", True)
            return Resolution(
                stale_digest,
                f"tag {tag} resolved {stale_age:.0f} s ago, not refreshed: "
                f"{endpoint.registry} {why}",
            )

        why = self._pauses.holding_back(endpoint.host)
        if why is not None:
            held = stale(why)
            if held is not None:
                return held

        def head() -> str:
            digest = self._head(ref, tag, endpoint, deadline)
            self._tags.put(key, _Resolved(digest, self._clock()))
            if shared is not None:
                shared.put_tag(shared_key, digest, self._kept)
            return digest

        def shared_answer() -> str | None:
            assert shared is not None
            known = shared.tag(shared_key)
            if known is None or known.age >= self._ttl:
                return None
            self._tags.put(key, _Resolved(known.digest, self._clock() - known.age))
            return known.digest

        try:
            if shared is None:
                return Resolution(head())
            return Resolution(shared.once(shared_key, shared_answer, head, deadline))
        except RateLimited:
            held = stale(self._pauses.holding_back(endpoint.host) or "is rate limited")
            if held is None:
                raise
            return held

    def _head(self, ref: ImageReference, tag: str, endpoint: Endpoint, deadline: Deadline) -> str:
        what = f"manifest {ref.repository}:{tag}"
        reply = self._exchange.request(
            endpoint,
            "HEAD",
            f"manifests/{tag}",
            accept=ACCEPT,
            cap=0,
            what=what,
            deadline=deadline,
        )
        header = str(reply.headers.get("docker-content-digest", ""))
        if _valid_digest(header):
            return header
        # No digest on HEAD: GET by tag, hash the body, check any header it sends.
        reply = self._exchange.request(
            endpoint,
            "GET",
            f"manifests/{tag}",
            accept=ACCEPT,
            cap=self._options.limits.manifest_bytes,
            what=what,
            deadline=deadline,
        )
        sent = reply.headers.get("docker-content-digest")
        if sent:
            verify_digest(reply.body, sent, what=what, registry=endpoint.registry)
        digest = sent or digest_of(reply.body)
        media_type = reply.headers.get("content-type", "")
        self._content.put(digest, Content(media_type, reply.body))
        if self._shared is not None:
            self._shared.put_content(digest, Content(media_type, reply.body))
        return digest

    def manifest(
        self,
        endpoint: Endpoint,
        digest: str,
        deadline: Deadline,
        miss: Callable[[], None] | None = None,
    ) -> Manifest | Index:
        """The manifest or index ``digest``, from the cache or fetched and verified."""
        what = f"manifest {endpoint.repository}@{digest}"
        content = self._by_digest(
            "manifest",
            endpoint,
            f"manifests/{digest}",
            digest,
            accept=ACCEPT,
            cap=self._options.limits.manifest_bytes,
            what=what,
            deadline=deadline,
            miss=miss,
        )
        return parse_document(
            content.body,
            content.media_type,
            what=what,
            registry=endpoint.registry,
            max_entries=self._options.limits.index_entries,
        )

    def config(
        self,
        endpoint: Endpoint,
        digest: str,
        size: int,
        deadline: Deadline,
        miss: Callable[[], None] | None = None,
    ) -> bytes:
        """The config blob ``digest`` (declared ``size``), from the cache or fetched."""
        what = f"config {endpoint.repository}@{digest}"
        cap = self._options.limits.config_bytes
        if size > cap:
            raise TooLarge(
                f"{endpoint.registry}: {what} is {size} bytes, over the {cap}-byte limit",
                registry=endpoint.registry,
            )
        content = self._by_digest(
            "config",
            endpoint,
            f"blobs/{digest}",
            digest,
            accept="*/*",
            cap=cap,
            what=what,
            deadline=deadline,
            miss=miss,
        )
        return content.body

    def _by_digest(
        self,
        kind: str,
        endpoint: Endpoint,
        path: str,
        digest: str,
        *,
        accept: str,
        cap: int,
        what: str,
        deadline: Deadline,
        miss: Callable[[], None] | None,
    ) -> Content:
        """Content named by ``digest``: from the cache, or fetched once (concurrent callers
        share the request), verified against the digest and cached."""
        content = self._content.get(digest)
        self._observer.cache(kind, content is not None)
        if content is not None:
            return content
        if miss is not None:
            miss()

        shared = self._shared

        def fetch() -> Content:
            reply = self._exchange.request(
                endpoint, "GET", path, accept=accept, cap=cap, what=what, deadline=deadline
            )
            verify_digest(reply.body, digest, what=what, registry=endpoint.registry)
            media_type = reply.headers.get("content-type", "") if kind == "manifest" else kind
            fetched = Content(media_type, reply.body)
            self._content.put(digest, fetched)
            if shared is not None:
                shared.put_content(digest, fetched)
            return fetched

        def from_shared(count: bool = True) -> Content | None:
            assert shared is not None
            found = shared.content(digest, count=count)
            if found is not None and len(found.body) <= cap:
                self._content.put(digest, found)
                return found
            return None

        def get() -> Content:
            again = self._content.get(digest)
            if again is not None:
                return again
            if shared is None:
                return fetch()
            found = from_shared()
            if found is not None:
                return found
            return shared.once(f"blob:{digest}", lambda: from_shared(False), fetch, deadline)

        key = (kind, endpoint.host, endpoint.repository, digest, endpoint.fingerprint())
        return self._content_flight.do(key, get)


def _valid_digest(text: str) -> bool:
    try:
        validate_digest(text)
    except InvalidReference:
        return False
    return True
