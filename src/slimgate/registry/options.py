"""The registry client's settings as plain values.

The configuration module maps the YAML ``registry:`` section onto :class:`RegistryOptions`;
the client never reads files or the environment itself. Host lists hold ``host`` or
``host:port`` entries: an entry with a port matches that port only, an entry without one
matches the host on any port. ``docker.io``, ``index.docker.io`` and ``registry-1.docker.io``
are one registry everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace

from slimgate.oci.documents import DocumentLimits

MIB = 1024 * 1024

DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def normalize_host(host: str) -> str:
    """Lower-case ``host[:port]``; every Docker Hub alias becomes ``docker.io``."""
    host = host.strip().lower()
    return "docker.io" if host in DOCKER_HUB_ALIASES else host


def split_host_port(host: str) -> tuple[str, int | None]:
    """``example.com:5000`` -> ``("example.com", 5000)``; ``[::1]:5000`` -> ``("::1", 5000)``."""
    if host.startswith("["):
        inner, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return inner, int(port) if port.isdigit() else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return host, None


def host_in(host: str, entries: AbstractSet[str]) -> bool:
    """True when ``host[:port]`` is listed, exactly or by host name without a port."""
    host = normalize_host(host)
    if host in entries:
        return True
    name, port = split_host_port(host)
    return port is not None and normalize_host(name) in entries


@dataclass(frozen=True, slots=True)
class Limits(DocumentLimits):
    """Caps on what one lookup may cost (``registry.limits``): the documents' caps, and more.

    ``breaker_timeouts`` lookups in a row that run out ``lookup_seconds`` at one host stop
    lookups there for ``breaker_seconds`` (see :mod:`slimgate.registry.breaker`).
    """

    redirects: int = 3
    lookup_seconds: float = 4.0
    breaker_timeouts: int = 3
    breaker_seconds: float = 30.0

    @property
    def documents(self) -> DocumentLimits:
        """The caps every reader of image documents applies, local or remote."""
        return DocumentLimits(self.manifest_bytes, self.config_bytes, self.index_entries)


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """Sizes and lifetimes of the client's caches."""

    max_bytes: int = 64 * MIB  # manifests and configs, by digest (immutable, LRU)
    tag_ttl_seconds: float = 60.0  # tag -> digest
    negative_ttl_seconds: float = 10.0  # failed lookups
    max_entries: int = 10_000  # per TTL cache
    # A tag -> digest answer may be used this long past its TTL while its registry is
    # paused (HTTP 429) or nearly out of its rate-limit budget; the decision says so.
    stale_grace_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class SharedCacheOptions:
    """``registry.sharedCache``: a Valkey/Redis store the replicas share (see
    :mod:`slimgate.registry.shared`). Files are read when the client is made."""

    url: str  # redis://host:port/db or rediss://host:port/db
    secret_file: str  # the install secret that keys the HMAC of tag and failure keys
    username: str | None = None  # an ACL user (AUTH username password); None: the password alone
    password_file: str | None = None
    ca_file: str | None = None  # rediss:// only: the CA that signs the store's certificate
    key_prefix: str = "slimgate:"
    timeout_seconds: float = 0.05  # connect and every command
    retry_seconds: float = 5.0  # after a failure, the store is not asked for this long
    lock_seconds: float = 5.0  # how long one replica's claim on a fetch lasts at most
    wait_seconds: float = 1.0  # how long the others wait for its result


@dataclass(frozen=True, slots=True)
class RegistryOptions:
    """Everything the registry client can be told; the defaults are safe for the internet.

    - ``insecure``: registries spoken to over plain HTTP; they may also resolve to loopback
      and private addresses.
    - ``allow_private``: registries (and token realms, mirrors) allowed to resolve to
      loopback, private or link-local addresses over TLS.
    - ``allow``: when non-empty, the only registries that may be contacted; ``deny`` wins.
    - ``ca_bundle``: a PEM file of CAs trusted in addition to the default CA store.
    - ``mirrors``: registry -> mirrors tried in order before the registry itself.
    - ``token_realms``: registry -> hosts of token realms, other than the registry itself,
      that may receive its credential (see :mod:`slimgate.registry.auth`).
    """

    insecure: AbstractSet[str] = frozenset()
    allow_private: AbstractSet[str] = frozenset()
    allow: AbstractSet[str] = frozenset()
    deny: AbstractSet[str] = frozenset()
    ca_bundle: str | None = None
    mirrors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    token_realms: Mapping[str, AbstractSet[str]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    cache: CacheOptions = field(default_factory=CacheOptions)
    shared: SharedCacheOptions | None = None
    user_agent: str = "slimgate"

    def __post_init__(self) -> None:
        for name in ("insecure", "allow_private", "allow", "deny"):
            values = getattr(self, name)
            object.__setattr__(self, name, frozenset(normalize_host(v) for v in values))
        object.__setattr__(
            self,
            "mirrors",
            {normalize_host(k): tuple(v) for k, v in dict(self.mirrors).items()},
        )
        object.__setattr__(
            self,
            "token_realms",
            {
                normalize_host(k): frozenset(normalize_host(h) for h in v)
                for k, v in dict(self.token_realms).items()
            },
        )

    def with_insecure(self, hosts: Sequence[str]) -> RegistryOptions:
        """These options with ``hosts`` also spoken to over plain HTTP (``--insecure-registry``)."""
        return replace(self, insecure=frozenset((*self.insecure, *hosts))) if hosts else self

    def is_insecure(self, host: str) -> bool:
        return host_in(host, self.insecure)

    def may_be_private(self, host: str) -> bool:
        return host_in(host, self.insecure) or host_in(host, self.allow_private)

    def mirrors_for(self, registry: str) -> tuple[str, ...]:
        return tuple(self.mirrors.get(normalize_host(registry), ()))
