"""One Distribution API request: authentication, redirects, caps and error mapping.

The Distribution API (github.com/opencontainers/distribution-spec, spec.md) is plain HTTP:
``HEAD``/``GET /v2/<name>/manifests/<reference>`` and ``GET /v2/<name>/blobs/<digest>``.
This module sends one such request within the lookup's deadline and turns every answer into
either bytes or one of our errors:

- a ``401`` from the registry itself is answered once through :class:`Authenticator`
  (token or basic), then retried; a ``401``/``403`` from a redirect target on another
  origin is an :class:`AuthError` at once: its challenge names a realm the registry did not,
  so no credential goes there and nothing is remembered for the registry host;
- redirects are followed here, not by httpx, at most ``limits.redirects`` times; each hop
  goes through the guarded transport (address policy), plain-HTTP hops need an insecure
  target, and the ``Authorization`` header is dropped as soon as a hop leaves the original
  scheme, host and port (config blobs are often redirected to object storage);
- bodies are streamed and cut at the cap, never inflated past it
  (:mod:`slimgate.registry.bodies`); ``Content-Length`` is checked but not trusted;
- the lookup's deadline bounds every request as a whole: each socket operation of it gets
  what is left (see :mod:`slimgate.registry.transport`), error bodies included, which are
  only read when small and declared, to keep the connection;
- 404 -> NotFound, 401/403 -> AuthError, 429 -> RateLimited (with Retry-After),
  5xx, timeouts and broken connections -> RegistryUnavailable;
- rate limits (:mod:`slimgate.registry.pauses`): every answer's rate-limit headers are
  read, a 429 with ``Retry-After`` pauses the host, and nothing is sent to a paused host.
"""

from __future__ import annotations

import email.utils
import logging
import time
from dataclasses import dataclass

import httpx

from slimgate.errors import (
    AuthError,
    Blocked,
    NotFound,
    RateLimited,
    RegistryError,
    RegistryUnavailable,
)
from slimgate.registry import bodies
from slimgate.registry.auth import Authenticator
from slimgate.registry.challenges import Challenge, parse_challenge
from slimgate.registry.counters import RegistryObserver
from slimgate.registry.credentials import Credential, fingerprint_of
from slimgate.registry.limits import Deadline
from slimgate.registry.options import RegistryOptions
from slimgate.registry.pauses import Pauses

log = logging.getLogger("slimgate.registry")

REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one lookup sends its requests: a registry or one of its mirrors."""

    host: str  # host[:port] to connect to (registry-1.docker.io, mirror.internal:5000)
    registry: str  # the name shown in messages (docker.io, mirror.internal:5000)
    repository: str
    credential: Credential | None
    insecure: bool = False

    def fingerprint(self) -> str:
        """Which login this endpoint uses (no secret): answers are cached per login."""
        return fingerprint_of(self.credential)

    @property
    def base(self) -> str:
        scheme = "http" if self.insecure else "https"
        return f"{scheme}://{self.host}/v2/{self.repository}/"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port: what a hop must keep for the registry's auth to apply."""
    return (url.scheme, url.host, url.port)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class Exchange:
    """Sends Distribution API requests for the client."""

    def __init__(
        self,
        http: httpx.Client,
        options: RegistryOptions,
        observer: RegistryObserver,
        auth: Authenticator,
        pauses: Pauses,
    ) -> None:
        self._http = http
        self._options = options
        self._observer = observer
        self._auth = auth
        self._pauses = pauses

    def request(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        *,
        accept: str,
        cap: int,
        what: str,
        deadline: Deadline,
    ) -> Reply:
        """``method`` ``path`` (relative to ``/v2/<name>/``); the body for GET, capped."""
        self._pauses.check(endpoint.host, endpoint.registry)
        url = endpoint.base + path
        origin = _origin(httpx.URL(url))
        challenge: Challenge | None = None
        sent: str | None = None
        for attempt in range(2):
            authorization = self._auth.header(
                endpoint.host, endpoint.repository, endpoint.credential, deadline, challenge
            )
            if attempt == 1 and authorization == sent:
                break  # nothing new to offer
            sent = authorization
            response = self._send(endpoint, method, url, accept, authorization, deadline)
            if response.status_code in (401, 403) and _origin(response.request.url) != origin:
                # Another host (object storage) refused a redirected request. Its challenge
                # is not the registry's: never send credentials to it, never remember it.
                bodies.discard(response)
                storage = response.request.url.netloc.decode("ascii")
                raise AuthError(
                    f"{endpoint.registry}: {what}: storage host {storage} refused the "
                    f"redirected request (HTTP {response.status_code}); no credentials "
                    "were offered to it",
                    registry=endpoint.registry,
                )
            if response.status_code != 401 or attempt == 1:
                break
            challenge = parse_challenge(response.headers.get("www-authenticate", ""))
            bodies.discard(response)
            if challenge is None:
                self._auth.forget(endpoint.host)
                raise AuthError(
                    f"{endpoint.registry}: {what} needs authentication the client does not "
                    "support (no Bearer or Basic challenge)",
                    registry=endpoint.registry,
                )
        else:  # pragma: no cover - the loop always breaks
            raise AssertionError("unreachable")
        try:
            if response.status_code != 200:
                response.close()  # an error's body is not worth waiting for
                self._fail(response, endpoint, what)
            if method == "HEAD":
                bodies.discard(response)
                return Reply(response.status_code, response.headers, b"")
            try:
                body = bodies.read_body(
                    response, cap, deadline=deadline, what=what, registry=endpoint.registry
                )
            except httpx.TimeoutException as exc:
                raise deadline.exceeded(registry=endpoint.registry) from exc
            except httpx.TransportError as exc:
                raise RegistryUnavailable(
                    f"{endpoint.registry}: the connection broke while reading {what}: {exc}",
                    registry=endpoint.registry,
                ) from exc
            return Reply(response.status_code, response.headers, body)
        finally:
            response.close()

    def _send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        accept: str,
        authorization: str | None,
        deadline: Deadline,
    ) -> httpx.Response:
        """Send, following redirects ourselves."""
        current = httpx.URL(url)
        origin = _origin(current)
        headers = {"Accept": accept, "User-Agent": self._options.user_agent, **bodies.HEADERS}
        if authorization is not None:
            headers["Authorization"] = authorization
        limit = self._options.limits.redirects
        for hop in range(limit + 1):
            host = current.netloc.decode("ascii")
            request = self._http.build_request(
                method,
                current,
                headers=headers,
                timeout=deadline.remaining(registry=endpoint.registry),
                extensions=deadline.extensions(registry=endpoint.registry),
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                self._observer.request(host, method, 0)
                if isinstance(exc, httpx.TimeoutException):
                    raise deadline.exceeded(registry=endpoint.registry) from exc
                # httpx parses a redirect's Location even when it does not follow it, and
                # gives up on one it cannot parse (an octal IPv4 address, say).
                if str(exc).startswith("Invalid URL in location header"):
                    raise Blocked(
                        f"{endpoint.registry}: redirect to an unusable location",
                        registry=host,
                    ) from exc
                raise RegistryUnavailable(
                    f"{endpoint.registry}: cannot reach {host}: {exc or type(exc).__name__}",
                    registry=endpoint.registry,
                ) from exc
            self._observer.request(host, method, response.status_code)
            if hop == 0:
                self._pauses.answered(endpoint.host, response.headers)
            log.debug("%s %s -> %s", method, current.copy_with(query=None), response.status_code)
            location = response.headers.get("location")
            if response.status_code not in REDIRECTS or not location:
                return response
            bodies.discard(response)
            if hop == limit:
                raise RegistryError(
                    f"{endpoint.registry}: more than {limit} redirects for "
                    f"{endpoint.repository}; giving up",
                    registry=endpoint.registry,
                )
            try:
                target = current.join(location)
            except (httpx.InvalidURL, ValueError, UnicodeError):
                target = httpx.URL()
            if target.scheme not in ("http", "https") or not target.host:
                raise Blocked(
                    f"{endpoint.registry}: redirect to an unusable location", registry=host
                )
            target_host = target.netloc.decode("ascii")
            if target.scheme == "http" and not self._options.is_insecure(target_host):
                raise Blocked(
                    f"{endpoint.registry}: redirect to plain-HTTP {target_host} refused",
                    registry=endpoint.registry,
                )
            if _origin(target) != origin:
                headers.pop("Authorization", None)
            current = target
        raise AssertionError("unreachable")  # pragma: no cover

    def _fail(self, response: httpx.Response, endpoint: Endpoint, what: str) -> None:
        status = response.status_code
        registry = endpoint.registry
        if status == 404:
            raise NotFound(f"{registry}: {what} not found (HTTP 404)", registry=registry)
        if status in (401, 403):
            if endpoint.credential is None:
                hint = (
                    "anonymous access was refused; the repository may not exist or may "
                    f"need credentials for {endpoint.registry}"
                )
            else:
                hint = f"the credentials for {endpoint.registry} were refused"
            raise AuthError(f"{registry}: {what}: {hint} (HTTP {status})", registry=registry)
        if status == 429:
            after = retry_after(response.headers.get("retry-after"))
            if after is not None:
                self._pauses.pause(endpoint.host, after)
            wait = f"; retry after {after:g} s" if after is not None else ""
            raise RateLimited(
                f"{registry}: rate limited (HTTP 429) reading {what}{wait}",
                registry=registry,
                retry_after=after,
            )
        if status >= 500:
            raise RegistryUnavailable(
                f"{registry}: server error HTTP {status} reading {what}", registry=registry
            )
        raise RegistryError(
            f"{registry}: unexpected HTTP {status} reading {what}", registry=registry
        )
