"""Reading one registry document: a tag's digest, a manifest or index, a config blob.

The client's economy lives here (see :mod:`slimgate.registry.client` for why): a tag is
resolved with ``HEAD`` and remembered for ``tagTtlSeconds`` per login; manifests and configs
are kept by digest in a byte-bounded LRU and fetched only on a miss, always checked against
their digest (github.com/opencontainers/image-spec, descriptor.md); concurrent requests for
the same document share one exchange (single-flight). Every request goes through
:class:`slimgate.registry.exchange.Exchange`.
"""

from __future__ import annotations

from collections.abc import Callable

from slimgate.errors import InvalidReference, TooLarge
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


class Documents:
    """Cached, single-flight, digest-checked reads of manifests and config blobs."""

    def __init__(
        self,
        exchange: Exchange,
        options: RegistryOptions,
        observer: RegistryObserver,
        clock: Callable[[], float],
    ) -> None:
        self._exchange = exchange
        self._options = options
        self._observer = observer
        cache = options.cache
        self._content = ContentCache(cache.max_bytes)
        self._tags: TTLCache[str] = TTLCache(cache.tag_ttl_seconds, clock, cache.max_entries)
        self._flight: SingleFlight[object] = SingleFlight()

    def resolve_tag(self, ref: ImageReference, endpoint: Endpoint, deadline: Deadline) -> str:
        """The digest ``ref``'s tag points to (HEAD, or GET and hash), cached per login."""
        tag = ref.tag or "latest"
        key = (ref.name, tag, endpoint.fingerprint())  # one login's answer is not another's
        cached = self._tags.get(key)
        self._observer.cache("tag", cached is not None)
        if cached is not None:
            return cached

        def head() -> str:
            again = self._tags.get(key)
            if again is not None:
                return again
            digest = self._head(ref, tag, endpoint, deadline)
            self._tags.put(key, digest)
            return digest

        flight_key = ("tag", endpoint.host, ref.repository, tag, endpoint.fingerprint())
        return str(self._flight.do(flight_key, head))

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
        return digest

    def manifest(self, endpoint: Endpoint, digest: str, deadline: Deadline) -> Manifest | Index:
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
        )
        return parse_document(
            content.body,
            content.media_type,
            what=what,
            registry=endpoint.registry,
            max_entries=self._options.limits.index_entries,
        )

    def config(self, endpoint: Endpoint, digest: str, size: int, deadline: Deadline) -> bytes:
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
    ) -> Content:
        """Content named by ``digest``: from the cache, or fetched once (concurrent callers
        share the request), verified against the digest and cached."""
        content = self._content.get(digest)
        self._observer.cache(kind, content is not None)
        if content is not None:
            return content

        def get() -> Content:
            again = self._content.get(digest)
            if again is not None:
                return again
            reply = self._exchange.request(
                endpoint, "GET", path, accept=accept, cap=cap, what=what, deadline=deadline
            )
            verify_digest(reply.body, digest, what=what, registry=endpoint.registry)
            media_type = reply.headers.get("content-type", "") if kind == "manifest" else kind
            fetched = Content(media_type, reply.body)
            self._content.put(digest, fetched)
            return fetched

        key = (kind, endpoint.host, endpoint.repository, digest, endpoint.fingerprint())
        return _as_content(self._flight.do(key, get))


def _valid_digest(text: str) -> bool:
    try:
        validate_digest(text)
    except InvalidReference:
        return False
    return True


def _as_content(value: object) -> Content:
    assert isinstance(value, Content)
    return value
