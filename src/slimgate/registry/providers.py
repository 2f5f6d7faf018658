"""Kubelet credential-provider plugins (``credentialprovider.kubelet.k8s.io/v1``, KEP-2133).

A plugin is the program a node's kubelet runs to get registry credentials from the cloud's
identity (``ecr-credential-provider`` on EKS and the like). slimgate reads the same
``CredentialProviderConfig`` (:mod:`slimgate.config.providers`) and runs the same programs
the way the kubelet does (kubernetes/kubernetes ``pkg/credentialprovider/plugin/plugin.go``,
v1.34.4):

- a plugin is asked only about an image one of its ``matchImages`` matches
  (:mod:`slimgate.kube.image_match`), with a ``CredentialProviderRequest`` on stdin whose
  ``image`` is the repository without tag or digest (``docker.io/library/nginx``);
- its ``CredentialProviderResponse`` must have the configured ``apiVersion`` and a
  ``cacheKeyType`` of ``Image``, ``Registry`` or ``Global``; its ``auth`` entries are used
  only for an image their key matches by the same rules, most specific key first;
- the answer is cached under that key type for ``cacheDuration`` (absent: the provider's
  ``defaultCacheDuration``; zero: not cached), and a lookup tries the image's key, its
  registry's (the text before the first ``/``, port included) and the global one.

Where slimgate departs from the kubelet, it is for the admission path: each run is bounded
by the provider's timeout and the lookup's deadline (the kubelet allows a minute); the
plugin gets only the environment its configuration names (the kubelet passes its whole
environment); and concurrent lookups share one run per registry (the kubelet shares per
image): the others wait for it and take its answer from the cache when its key covers them.
A failed run is a :class:`~slimgate.errors.CredentialsUnavailable` that names the plugin
and the reason, and is not cached. The service-account-token form of the request
(``tokenAttributes``, KEP-4412) is not supported; see :mod:`slimgate.config.providers`.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slimgate.errors import CredentialsUnavailable, TimedOut
from slimgate.kube.image_match import keyring_key, ordered_keys, urls_match
from slimgate.registry.cache import TTLCache
from slimgate.registry.credentials import Credential
from slimgate.registry.flight import SingleFlight
from slimgate.registry.limits import Deadline
from slimgate.registry.programs import ProgramFailed, run_program

log = logging.getLogger("slimgate.registry")

API_VERSIONS = (
    "credentialprovider.kubelet.k8s.io/v1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
)
CACHE_KEY_TYPES = ("Image", "Registry", "Global")
GLOBAL_KEY = "<global>"
MAX_CACHE_ENTRIES = 4096  # per provider; the least recently stored goes first past this

_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """A Go ``time.Duration`` string (``12h``, ``1h30m``, ``90s``, ``0``) in seconds."""
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body.lstrip("+-")
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(f"{text!r} is not a duration")
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(body):
        raise ValueError(f"{text!r} is not a duration such as 12h, 30m or 90s")
    return sign * total


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One ``providers[]`` entry of a ``CredentialProviderConfig``, its binary resolved."""

    name: str
    path: str  # absolute: the configured binary directory joined with ``name``
    match_images: tuple[str, ...]
    default_cache_seconds: float
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    source: str = ""  # file:line of the entry, for messages


@dataclass(frozen=True, slots=True)
class _Answer:
    """A plugin's ``auth`` entries, keys reduced and in the order they are tried."""

    key: str  # the image, its registry or GLOBAL_KEY, as the response's cacheKeyType says
    entries: tuple[tuple[str, Credential], ...]
    expires: float  # on the provider's clock; math.inf never

    def covers(self, image: str) -> bool:
        """Whether this answer's cache key is one of ``image``'s."""
        return self.key in (image, registry_of(image), GLOBAL_KEY)

    def credential_for(self, image: str) -> Credential | None:
        return next((c for key, c in self.entries if urls_match(key, image)), None)


def registry_of(image: str) -> str:
    """The kubelet's registry cache key: the text before the first ``/``, port included."""
    return image.split("/", 1)[0]


class CredentialProvider:
    """One plugin: asked about matching images, its answers cached by their key type."""

    def __init__(
        self,
        spec: ProviderSpec,
        *,
        env: Mapping[str, str],
        timeout: float,
        report: Callable[[str, str], None],
        cache_hit: Callable[[bool], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self._env = {**env, **dict(spec.env)}
        self._timeout = timeout
        self._report = report
        self._cache_hit = cache_hit
        self._clock = clock
        self._cache: TTLCache[_Answer] = TTLCache(0.0, clock, MAX_CACHE_ENTRIES)
        self._flight: SingleFlight[_Answer] = SingleFlight()

    @property
    def name(self) -> str:
        return self.spec.name

    def matches(self, image: str) -> bool:
        """Whether one of the provider's ``matchImages`` matches ``image``."""
        return any(urls_match(pattern, image) for pattern in self.spec.match_images)

    def credential(self, image: str, deadline: Deadline) -> Credential | None:
        """The credential the plugin gives for ``image`` (``host/repository``), or None when
        its answer has none for it. Raises CredentialsUnavailable when the plugin fails."""
        found = self._cached(image)
        self._cache_hit(found is not None)
        if found is None:
            shared = self._flight.do(
                ("registry", registry_of(image)), lambda: self._fetch(image, deadline)
            )
            if shared.covers(image):
                found = shared
            else:  # the shared run answered for another image only: ask about this one
                found = self._flight.do(("image", image), lambda: self._fetch(image, deadline))
        return found.credential_for(image)

    # -- the cache -----------------------------------------------------------------------

    def _cached(self, image: str) -> _Answer | None:
        for key in (image, registry_of(image), GLOBAL_KEY):
            answer = self._cache.get(key)
            if answer is not None:
                return answer
        return None

    def _store(self, answer: _Answer) -> None:
        # A zero duration leaves no time to live: used by the callers of this run, not kept.
        self._cache.put(answer.key, answer, ttl=answer.expires - self._clock())

    # -- one run -------------------------------------------------------------------------

    def _fetch(self, image: str, deadline: Deadline) -> _Answer:
        """The cached answer for ``image`` (another caller's run may just have stored it),
        else the answer of a run of the plugin for it."""
        found = self._cached(image)
        if found is not None:
            return found
        answer = self._run(image, deadline)
        self._store(answer)
        return answer

    def _run(self, image: str, deadline: Deadline) -> _Answer:
        registry = registry_of(image)
        try:
            left = deadline.remaining(registry=registry)
        except TimedOut:
            self._report(self.name, "timeout")
            raise self._failed(image, "not run: the lookup deadline had passed") from None
        request = json.dumps(
            {
                "apiVersion": self.spec.api_version,
                "kind": "CredentialProviderRequest",
                "image": image,
            }
        ).encode()
        try:
            completed = run_program(
                self.spec.path, self.spec.args, request, self._env, min(self._timeout, left)
            )
        except ProgramFailed as exc:
            self._report(self.name, "timeout" if exc.timed_out else "error")
            raise self._failed(image, exc.reason) from None
        if completed.status != 0:
            self._report(self.name, "error")
            raise self._failed(image, f"exited with status {completed.status}")
        try:
            answer = self._parse(completed.stdout, image)
        except ValueError as exc:
            self._report(self.name, "invalid")
            raise self._failed(image, str(exc)) from None
        self._report(self.name, "ok")
        log.debug("credential provider %s answered for %s", self.name, image)
        return answer

    def _failed(self, image: str, reason: str) -> CredentialsUnavailable:
        registry = registry_of(image)
        return CredentialsUnavailable(
            f"{registry}: credential provider {self.name} failed: {reason}", registry=registry
        )

    def _parse(self, stdout: bytes, image: str) -> _Answer:
        """The response as an answer cached under its key. The messages never quote the
        output (it may hold a password)."""
        try:
            data = json.loads(stdout)
        except (ValueError, RecursionError):
            raise ValueError("its output is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("its output is not a JSON object")
        if data.get("kind") != "CredentialProviderResponse":
            raise ValueError("its output is not a CredentialProviderResponse")
        if data.get("apiVersion") != self.spec.api_version:
            raise ValueError(f"its response is not {self.spec.api_version}")
        key_type = data.get("cacheKeyType")
        if key_type not in CACHE_KEY_TYPES:
            raise ValueError("its response has no cacheKeyType of Image, Registry or Global")
        seconds = self.spec.default_cache_seconds
        duration = data.get("cacheDuration")
        if duration is not None:
            if not isinstance(duration, str):
                raise ValueError("its response's cacheDuration is not a duration")
            seconds = parse_duration(duration)
        auth = data.get("auth") or {}
        if not isinstance(auth, dict):
            raise ValueError("its response's auth is not an object")
        entries: dict[str, Credential] = {}
        for raw_key, value in auth.items():
            if not isinstance(value, dict):
                raise ValueError("an auth entry of its response is not an object")
            username, password = value.get("username"), value.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                raise ValueError("an auth entry of its response has no username and password")
            entries.setdefault(keyring_key(str(raw_key)), Credential(username, password))
        ordered = tuple((k, entries[k]) for k in ordered_keys(list(entries)))
        now = self._clock()
        expires = now + seconds if seconds > 0 else now
        key = {"Image": image, "Registry": registry_of(image)}.get(key_type, GLOBAL_KEY)
        return _Answer(key, ordered, expires if math.isfinite(expires) else math.inf)
