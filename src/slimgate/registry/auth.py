"""Registry authentication: bearer tokens, their cache, and the challenges remembered per host.

Follows the Docker token specification (distribution docs/spec/auth/token.md) that Docker
Hub, GHCR, Quay, Harbor, ECR and registry 2.x all speak: a request without credentials gets
``401`` with ``WWW-Authenticate: Bearer realm="...",service="...",scope="..."``; the client
GETs ``realm?service=...&scope=repository:NAME:pull`` (with HTTP basic credentials when it
has them, or POSTs an OAuth2 refresh-token grant for an ``identitytoken``) and receives
``{"token"|"access_token", "expires_in", "issued_at"}``. A ``Basic`` challenge means basic
credentials go straight to the registry.

Tokens are cached per (realm, service, scope, credential) until ``expires_in`` (default 60 s,
at most :data:`MAX_TOKEN_SECONDS`) minus a small margin, measured on the injected clock from
receipt, which is immune to clock skew; ``issued_at`` is not needed for that. Challenges are
remembered per registry host for :data:`CHALLENGE_SECONDS` (the :data:`MAX_CHALLENGES` most
recently used hosts) so later lookups send a token up front instead of collecting another
401. A remembered challenge that fails (its realm is refused, its token service refuses or
sends something unreadable) is forgotten at once: the next request goes without it, and the
registry's next 401 is learnt afresh.

Where a token request may go, and with which credential, is the rule of
:mod:`slimgate.registry.challenges`. Tokens and passwords are never logged.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

import httpx

from slimgate.errors import AuthError, RegistryError, RegistryUnavailable
from slimgate.registry import bodies
from slimgate.registry.cache import TTLCache
from slimgate.registry.challenges import Challenge, token_realm
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.credentials import Credential, fingerprint_of
from slimgate.registry.limits import Deadline
from slimgate.registry.options import RegistryOptions

log = logging.getLogger("slimgate.registry")

TOKEN_BYTES = 1024 * 1024
DEFAULT_EXPIRES_IN = 60.0
MAX_TOKEN_SECONDS = 3600.0  # a token is kept no longer than this, whatever expires_in says
EXPIRY_MARGIN = 5.0
MAX_CHALLENGES = 1024  # registry hosts whose challenge is remembered (LRU)
CHALLENGE_SECONDS = 300.0  # how long a host's challenge is remembered

_TOKEN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a header value can carry


def basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class Authenticator:
    """Turns challenges and credentials into ``Authorization`` headers, caching tokens."""

    def __init__(
        self,
        http: httpx.Client,
        options: RegistryOptions,
        observer: RegistryObserver,
        clock: Callable[[], float],
    ) -> None:
        self._http = http
        self._options = options
        self._observer = observer
        self._clock = clock
        self._tokens: TTLCache[str] = TTLCache(
            ttl=DEFAULT_EXPIRES_IN, clock=clock, max_entries=options.cache.max_entries
        )
        self._challenges: OrderedDict[str, tuple[float, Challenge]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, host: str, challenge: Challenge) -> None:
        """Remember the challenge ``host`` itself answered with (never a redirect target's)."""
        expires = self._clock() + CHALLENGE_SECONDS
        with self._lock:
            self._challenges[host] = (
                expires,
                Challenge(challenge.scheme, challenge.realm, challenge.service),
            )
            self._challenges.move_to_end(host)
            while len(self._challenges) > MAX_CHALLENGES:
                self._challenges.popitem(last=False)

    def known(self, host: str) -> Challenge | None:
        """The challenge remembered for ``host``, unless it is older than its lifetime."""
        with self._lock:
            entry = self._challenges.get(host)
            if entry is None:
                return None
            expires, challenge = entry
            if self._clock() >= expires:
                del self._challenges[host]
                return None
            self._challenges.move_to_end(host)
            return challenge

    def forget(self, host: str) -> None:
        """Drop ``host``'s challenge: its next request goes without, and learns anew."""
        with self._lock:
            self._challenges.pop(host, None)

    def remembered(self) -> int:
        """How many hosts have a remembered challenge."""
        with self._lock:
            return len(self._challenges)

    def header(
        self,
        host: str,
        repository: str,
        credential: Credential | None,
        deadline: Deadline,
        challenge: Challenge | None = None,
    ) -> str | None:
        """The Authorization header for ``host``, or None to go anonymous.

        ``challenge`` is one ``host`` just answered with; it is remembered once it has
        given a header. Without one, the remembered challenge is used; if using it fails, it
        is forgotten.
        """
        fresh = challenge is not None
        challenge = challenge or self.known(host)
        if challenge is None:
            return None
        try:
            header = self._header(host, repository, credential, deadline, challenge)
        except RegistryError:
            self.forget(host)
            raise
        if fresh:
            self.remember(host, challenge)
        return header

    def _header(
        self,
        host: str,
        repository: str,
        credential: Credential | None,
        deadline: Deadline,
        challenge: Challenge,
    ) -> str | None:
        if challenge.scheme == "basic":
            if credential is None or not credential.has_basic:
                return None
            return basic_header(credential)
        if credential is not None and credential.registry_token:
            return _bearer(credential.registry_token, host, "the configured registry token")
        scope = challenge.scope if repository in challenge.scope else ""
        scope = scope or f"repository:{repository}:pull"
        key = (challenge.realm, challenge.service, scope, fingerprint_of(credential))
        token = self._tokens.get(key)
        self._observer.cache("token", token is not None)
        if token is None:
            token, lifetime = self._fetch(host, challenge, scope, credential, deadline)
            self._tokens.put(key, token, ttl=max(lifetime - EXPIRY_MARGIN, 0.0))
        return f"Bearer {token}"

    def _fetch(
        self,
        host: str,
        challenge: Challenge,
        scope: str,
        credential: Credential | None,
        deadline: Deadline,
    ) -> tuple[str, float]:
        realm = token_realm(host, challenge, credential, self._options)
        params = {"scope": scope}
        if challenge.service:
            params["service"] = challenge.service
        headers = {"User-Agent": self._options.user_agent, **bodies.HEADERS}
        timeout = deadline.remaining(registry=host)
        extensions = deadline.extensions(registry=host)
        if credential is not None and credential.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credential.identity_token,
                "client_id": "slimgate",
                **params,
            }
            request = self._http.build_request(
                "POST", realm, data=form, headers=headers, timeout=timeout, extensions=extensions
            )
        else:
            if credential is not None and credential.has_basic:
                headers["Authorization"] = basic_header(credential)
            request = self._http.build_request(
                "GET", realm, params=params, headers=headers, timeout=timeout, extensions=extensions
            )
        realm_host = realm.netloc.decode("ascii")
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            self._observer.request(realm_host, request.method, 0)
            if isinstance(exc, httpx.TimeoutException):
                raise deadline.exceeded(registry=host) from exc
            raise RegistryUnavailable(
                f"{host}: cannot reach token service {realm_host}: {exc}", registry=host
            ) from exc
        try:
            self._observer.request(realm_host, request.method, response.status_code)
            log.debug("token %s %s -> %s", request.method, realm_host, response.status_code)
            if response.status_code in (401, 403):
                who = "with the configured credentials" if credential else "anonymously"
                raise AuthError(
                    f"{host}: token service {realm_host} refused {scope} {who} "
                    f"(HTTP {response.status_code})",
                    registry=host,
                )
            if response.status_code != 200:
                raise RegistryUnavailable(
                    f"{host}: token service {realm_host} answered HTTP {response.status_code}",
                    registry=host,
                )
            try:
                body = bodies.read_body(
                    response,
                    TOKEN_BYTES,
                    deadline=deadline,
                    what="token response",
                    registry=host,
                )
            except httpx.TimeoutException as exc:
                raise deadline.exceeded(registry=host) from exc
            except httpx.TransportError as exc:
                raise RegistryUnavailable(
                    f"{host}: token service {realm_host} broke off: {exc}", registry=host
                ) from exc
        finally:
            response.close()
        return token_from(body, host)


def _bearer(token: str, host: str, what: str) -> str:
    if not _TOKEN.fullmatch(token):
        raise AuthError(f"{host}: {what} is not a valid bearer token", registry=host)
    return f"Bearer {token}"


def token_from(body: bytes, host: str) -> tuple[str, float]:
    """The token and its lifetime in seconds from a token service's JSON answer."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise AuthError(f"{host}: token response is not JSON", registry=host) from exc
    if not isinstance(data, dict):
        raise AuthError(f"{host}: token response is not a JSON object", registry=host)
    token = data.get("token") or data.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthError(f"{host}: token response has no token", registry=host)
    _bearer(token, host, "the token in the token response")
    expires_in = data.get("expires_in")
    lifetime = DEFAULT_EXPIRES_IN
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        # clamped before float(): an integer of hundreds of digits does not fit in one
        seconds = float(max(min(expires_in, MAX_TOKEN_SECONDS), 0))
        if seconds > 0 and math.isfinite(seconds):
            lifetime = seconds
    return token, lifetime
