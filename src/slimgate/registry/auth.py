"""Registry authentication: challenges, bearer tokens and their cache.

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

Where a credential may go. A registry's own challenge names the realm, so a registry that
is hostile, or an image reference that points at one, could name any host. A credential (a
password, or an identity token for the refresh-token grant) is therefore sent to a realm
only over https, and only when the realm is

- the registry's own host and port (GHCR, Quay, GCR and Artifact Registry, ACR, Harbor,
  public ECR and registry 2.x deployments all name themselves; ECR asks for Basic auth
  directly);
- a known token service of that registry (:data:`KNOWN_REALMS`: Docker Hub's
  ``auth.docker.io``, GitLab.com's ``gitlab.com``); or
- listed for that registry under ``registry.tokenRealms``.

Otherwise the lookup fails with :class:`Blocked` before anything is sent. An anonymous
token request carries no secret and may go to any realm that passes the address policy;
it must be https unless the registry is configured insecure. Tokens and passwords are never
logged.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from slimgate.errors import AuthError, Blocked, RegistryError, RegistryUnavailable
from slimgate.registry import bodies
from slimgate.registry.cache import TTLCache
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.credentials import Credential, fingerprint_of
from slimgate.registry.limits import Deadline
from slimgate.registry.options import RegistryOptions, host_in, normalize_host

log = logging.getLogger("slimgate.registry")

TOKEN_BYTES = 1024 * 1024
DEFAULT_EXPIRES_IN = 60.0
MAX_TOKEN_SECONDS = 3600.0  # a token is kept no longer than this, whatever expires_in says
EXPIRY_MARGIN = 5.0
MAX_CHALLENGES = 1024  # registry hosts whose challenge is remembered (LRU)
CHALLENGE_SECONDS = 300.0  # how long a host's challenge is remembered

# Registries whose token service lives on another host, as they advertise it in their
# challenge: registry-1.docker.io -> Bearer realm="https://auth.docker.io/token"
# (distribution/distribution issue 1203); registry.gitlab.com -> Bearer
# realm="https://gitlab.com/jwt/auth" (deitch/docker_registry2 issue 14).
KNOWN_REALMS: Mapping[str, frozenset[str]] = {
    "docker.io": frozenset({"auth.docker.io"}),
    "registry.gitlab.com": frozenset({"gitlab.com"}),
}

_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_TOKEN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a header value can carry


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    realm: str = ""
    service: str = ""
    scope: str = ""


def parse_challenge(header: str) -> Challenge | None:
    """Parse the first Bearer or Basic challenge of a ``WWW-Authenticate`` header."""
    header = header.strip()
    scheme, _, rest = header.partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace(
            '\\"', '"'
        )
        for m in _PARAM.finditer(rest)
    }
    return Challenge(
        scheme=scheme,
        realm=params.get("realm", ""),
        service=params.get("service", ""),
        scope=params.get("scope", ""),
    )


def basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _authority(url: httpx.URL) -> str:
    """``host[:port]`` of an https URL, without the default port."""
    host = url.host if ":" not in url.host else f"[{url.host}]"
    return host if url.port in (None, 443) else f"{host}:{url.port}"


def _registry_authority(host: str) -> str:
    """``host[:port]`` of the registry as an https authority (``:443`` dropped)."""
    return host[: -len(":443")] if host.endswith(":443") else host


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

    def _realm(self, host: str, challenge: Challenge, credential: Credential | None) -> httpx.URL:
        """The token realm's URL, once the rules above allow asking it."""
        try:
            realm = httpx.URL(challenge.realm)
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise AuthError(f"{host}: invalid token realm in challenge", registry=host) from exc
        if realm.scheme not in ("https", "http") or not realm.host:
            raise AuthError(f"{host}: invalid token realm {challenge.realm!r}", registry=host)
        secret = credential is not None and (credential.has_basic or credential.identity_token)
        realm_host = realm.netloc.decode("ascii")
        if secret and realm.scheme != "https":
            raise Blocked(
                f"{host}: token realm {realm_host} is plain HTTP; the credential for {host} "
                "is sent to a token realm only over https",
                registry=host,
            )
        if realm.scheme != "https" and not self._options.is_insecure(host):
            raise Blocked(
                f"{host}: token realm {challenge.realm} is not https; refused (only registries "
                "listed under registry.insecure may use plain HTTP realms)",
                registry=host,
            )
        if secret and not self._may_receive_credential(host, _authority(realm)):
            raise Blocked(
                f"{host}: its token realm {realm_host} is another host; the credential for "
                f"{host} goes only to {host} itself or to a realm listed for it under "
                "registry.tokenRealms",
                registry=host,
            )
        return realm

    def _may_receive_credential(self, host: str, realm: str) -> bool:
        if realm == _registry_authority(host.lower()):
            return True
        registry = normalize_host(host)
        if realm in KNOWN_REALMS.get(registry, frozenset()):
            return True
        return host_in(realm, self._options.token_realms.get(registry, frozenset()))

    def _fetch(
        self,
        host: str,
        challenge: Challenge,
        scope: str,
        credential: Credential | None,
        deadline: Deadline,
    ) -> tuple[str, float]:
        realm = self._realm(host, challenge, credential)
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
        except httpx.TimeoutException as exc:
            self._observer.request(realm_host, request.method, 0)
            raise deadline.exceeded(registry=host) from exc
        except httpx.TransportError as exc:
            self._observer.request(realm_host, request.method, 0)
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
        seconds = float(min(expires_in, MAX_TOKEN_SECONDS))
        if seconds > 0 and math.isfinite(seconds):
            lifetime = seconds
    return token, lifetime
