"""Registry credentials from dockerconfigjson documents, matched to the exact registry host.

The format is the one of ``~/.docker/config.json`` and of Kubernetes secrets of type
``kubernetes.io/dockerconfigjson`` (``{"auths": {KEY: {"auth": base64(user:pass)} }}``) and
the older ``kubernetes.io/dockercfg`` (the same map without ``auths``). Keys come in many
spellings (``https://index.docker.io/v1/``, ``docker.io``, ``host:port``,
``https://host/v1/``, ``http://host:port``); each is reduced to a lower-case ``host[:port]``,
with the Docker Hub aliases folded into ``docker.io``. A credential is used only for the
registry whose host equals that key exactly: never by prefix, glob or path (kubelet matches
globs and path prefixes; we deliberately do not). ``credHelpers`` (host -> helper name) and
``credsStore`` are read and kept as names; the programs are run by
:mod:`slimgate.registry.credential_programs`.

A :class:`CredentialStore` can be layered: a per-request store (the pull secrets of one pod)
over the static store mounted from a file; the upper layer wins for a host it knows. The
static store may carry :class:`CredentialSource` programs (helpers, provider plugins) at
the bottom, asked only when no layer has an entry for the host:
:meth:`CredentialStore.resolve` is the one lookup with that order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from slimgate.errors import ConfigError
from slimgate.registry.limits import Deadline
from slimgate.registry.options import normalize_host

log = logging.getLogger("slimgate.registry")

_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # docker-credential-<name>, no path


@dataclass(frozen=True, slots=True)
class Credential:
    """One registry login. Secrets never appear in ``repr``."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)  # OAuth2 refresh token
    registry_token: str | None = field(default=None, repr=False)  # bearer token as is

    @property
    def has_basic(self) -> bool:
        return bool(self.username) and self.password is not None

    def fingerprint(self) -> str:
        """A stable, non-reversible key for caches that must not mix logins."""
        material = "\0".join(
            v or ""
            for v in (self.username, self.password, self.identity_token, self.registry_token)
        )
        return hashlib.sha256(material.encode()).hexdigest()[:24]


def fingerprint_of(credential: Credential | None) -> str:
    """:meth:`Credential.fingerprint`, or ``anonymous`` without a login."""
    return credential.fingerprint() if credential is not None else "anonymous"


def normalize_key(key: str) -> str:
    """Reduce a dockerconfigjson key to ``host[:port]`` (``docker.io`` for Docker Hub)."""
    key = key.strip()
    netloc = urlsplit(key).netloc if "://" in key else key.split("/", 1)[0]
    netloc = netloc.rpartition("@")[2]
    return normalize_host(netloc)


def _decode_entry(key: str, entry: Any, source: str) -> Credential | None:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{source}: the entry for {key!r} is not an object")
    username = entry.get("username") or None
    password = entry.get("password")
    auth = entry.get("auth")
    if auth:
        if not isinstance(auth, str):
            raise ConfigError(f"{source}: the 'auth' value for {key!r} is not a string")
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(
                f"{source}: the 'auth' value for {key!r} is not base64 of user:password"
            ) from exc
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise ConfigError(f"{source}: the 'auth' value for {key!r} has no ':' separator")
        username, password = user or username, secret
    identity = entry.get("identitytoken") or None
    registry_token = entry.get("registrytoken") or None
    if not (username or identity or registry_token):
        return None
    return Credential(
        username=username if isinstance(username, str) else None,
        password=password if isinstance(password, str) else None,
        identity_token=identity if isinstance(identity, str) else None,
        registry_token=registry_token if isinstance(registry_token, str) else None,
    )


class CredentialSource(Protocol):
    """Programs that give credentials on demand (:class:`~slimgate.registry.
    credential_programs.CredentialPrograms`)."""

    def source_of(self, host: str, repository: str) -> str | None:
        """Which programs would be asked about ``host/repository`` (none is run)."""

    def credential(self, host: str, repository: str, deadline: Deadline) -> Credential | None:
        """The credential for ``host/repository``; raises CredentialsUnavailable."""


class CredentialStore:
    """Credentials by exact registry host, optionally layered over a fallback store."""

    def __init__(
        self,
        entries: Mapping[str, Credential] | None = None,
        *,
        fallback: CredentialStore | None = None,
        helpers: Mapping[str, str] | None = None,
        helper_store: str | None = None,
        programs: CredentialSource | None = None,
    ) -> None:
        self._entries = {normalize_key(k): v for k, v in (entries or {}).items()}
        self._fallback = fallback
        self.helpers = {normalize_key(k): v for k, v in (helpers or {}).items()}
        self.helper_store = helper_store
        self._programs = programs

    @classmethod
    def empty(cls) -> CredentialStore:
        return cls()

    @classmethod
    def from_docker_config(
        cls,
        document: bytes | str | Mapping[str, Any],
        *,
        source: str = "docker config",
        helpers: bool = False,
    ) -> CredentialStore:
        """Read a dockerconfigjson (or legacy dockercfg) document; with ``helpers``, also
        its ``credHelpers`` and ``credsStore`` (only the configured file's: a pull secret
        never makes slimgate run a program, so a secret's are ignored)."""
        data: Any = document
        if isinstance(document, bytes | str):
            try:
                data = json.loads(document)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                raise ConfigError(f"{source}: not valid JSON ({exc.__class__.__name__})") from exc
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: expected a JSON object")
        auths = data.get("auths", data if "auths" not in data else None)
        if not isinstance(auths, Mapping):
            raise ConfigError(f"{source}: 'auths' must be an object")
        named = (data.get("credHelpers") or {}) if helpers else {}
        if not isinstance(named, Mapping) or not all(
            isinstance(v, str) and _HELPER_NAME.fullmatch(v) for v in named.values()
        ):
            raise ConfigError(f"{source}: 'credHelpers' must map hosts to helper names")
        store = (data.get("credsStore") or None) if helpers else None
        if store is not None and not (isinstance(store, str) and _HELPER_NAME.fullmatch(store)):
            raise ConfigError(f"{source}: 'credsStore' must be a helper name")
        if "auths" not in data:
            auths = {k: v for k, v in auths.items() if k not in {"credsStore", "credHelpers"}}
        entries: dict[str, Credential] = {}
        for key, entry in auths.items():
            credential = _decode_entry(str(key), entry, source)
            if credential is not None:
                entries.setdefault(normalize_key(str(key)), credential)
        return cls(entries, helpers={str(k): v for k, v in named.items()}, helper_store=store)

    @classmethod
    def from_file(cls, path: str | Path) -> CredentialStore:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read registry credentials {path}: {exc.strerror}") from exc
        return cls.from_docker_config(content, source=str(path), helpers=True)

    def over(self, fallback: CredentialStore | None) -> CredentialStore:
        """This store's entries first, then ``fallback``'s."""
        if fallback is None:
            return self
        below = fallback if self._fallback is None else self._fallback.over(fallback)
        return CredentialStore(self._entries, fallback=below, programs=self._programs)

    def with_programs(self, programs: CredentialSource | None) -> CredentialStore:
        """This store, asking ``programs`` for a host no entry has."""
        return CredentialStore(
            self._entries,
            fallback=self._fallback,
            helpers=self.helpers,
            helper_store=self.helper_store,
            programs=programs,
        )

    def resolve(self, host: str, repository: str, deadline: Deadline) -> Credential | None:
        """The credential for an image ``host/repository``: the entries of every layer for
        exactly ``host`` first, then the programs. Raises CredentialsUnavailable when a
        program that was asked failed."""
        found = self.lookup(host)
        if found is not None:
            return found
        return self._program_credential(normalize_host(host), repository, deadline)

    def _program_credential(
        self, host: str, repository: str, deadline: Deadline
    ) -> Credential | None:
        if self._fallback is not None:
            found = self._fallback._program_credential(host, repository, deadline)
            if found is not None:
                return found
        if self._programs is None:
            return None
        return self._programs.credential(host, repository, deadline)

    def source_of(self, host: str, repository: str) -> str:
        """What :meth:`resolve` would use, without running anything: the fingerprint of an
        entry, the names of the programs, or ``anonymous`` (for cache keys)."""
        found = self.lookup(host)
        if found is not None:
            return found.fingerprint()
        names = self._program_names(normalize_host(host), repository)
        return f"programs:{names}" if names else "anonymous"

    def _program_names(self, host: str, repository: str) -> str | None:
        below = self._fallback._program_names(host, repository) if self._fallback else None
        own = self._programs.source_of(host, repository) if self._programs else None
        return ",".join(n for n in (below, own) if n) or None

    def lookup(self, host: str) -> Credential | None:
        """The credential for exactly ``host[:port]``, or None."""
        key = normalize_host(host)
        found = self._entries.get(key)
        if found is None and self._fallback is not None:
            return self._fallback.lookup(key)
        return found

    def hosts(self) -> frozenset[str]:
        """The hosts with a credential (for logs and diagnostics; no secrets)."""
        own = frozenset(self._entries)
        return own | self._fallback.hosts() if self._fallback is not None else own

    def __repr__(self) -> str:
        return f"CredentialStore(hosts={sorted(self.hosts())!r})"
