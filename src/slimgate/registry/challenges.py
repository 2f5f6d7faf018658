"""Authentication challenges, and where a token request may go with which credential.

A registry that wants a token answers ``401`` with ``WWW-Authenticate: Bearer
realm="...",service="...",scope="..."`` (distribution docs/spec/auth/token.md); ``Basic``
means credentials go straight to the registry. :func:`parse_challenge` reads the first
challenge of either kind.

The registry's challenge names the realm, so a registry that is hostile, or an image
reference that points at one, could name any host. :func:`token_realm` decides whether the
realm may be asked at all, and with the credential or not. A credential (a password, or an
identity token for the refresh-token grant) is sent to a realm only over https, and only
when the realm is

- the registry's own host and port (GHCR, Quay, GCR and Artifact Registry, ACR, Harbor,
  public ECR and registry 2.x deployments all name themselves; ECR asks for Basic auth
  directly);
- a known token service of that registry (:data:`KNOWN_REALMS`: Docker Hub's
  ``auth.docker.io``, GitLab.com's ``gitlab.com``); or
- listed for that registry under ``registry.tokenRealms``.

Otherwise the lookup fails with :class:`Blocked` before anything is sent. An anonymous
token request carries no secret and may go to any realm that passes the address policy
(the transport applies it); it must be https unless the registry is configured insecure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from slimgate.errors import AuthError, Blocked
from slimgate.registry.credentials import Credential
from slimgate.registry.options import RegistryOptions, host_in, normalize_host

# Registries whose token service lives on another host, as they advertise it in their
# challenge: registry-1.docker.io -> Bearer realm="https://auth.docker.io/token"
# (distribution/distribution issue 1203); registry.gitlab.com -> Bearer
# realm="https://gitlab.com/jwt/auth" (deitch/docker_registry2 issue 14).
KNOWN_REALMS: Mapping[str, frozenset[str]] = {
    "docker.io": frozenset({"auth.docker.io"}),
    "registry.gitlab.com": frozenset({"gitlab.com"}),
}

_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


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


def token_realm(
    host: str, challenge: Challenge, credential: Credential | None, options: RegistryOptions
) -> httpx.URL:
    """The URL of ``challenge``'s realm, once the rules above allow asking it for ``host``
    (with ``credential``, when there is one)."""
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
    if realm.scheme != "https" and not options.is_insecure(host):
        raise Blocked(
            f"{host}: token realm {challenge.realm} is not https; refused (only registries "
            "listed under registry.insecure may use plain HTTP realms)",
            registry=host,
        )
    if secret and not _may_receive_credential(host, _authority(realm), options):
        raise Blocked(
            f"{host}: its token realm {realm_host} is another host; the credential for "
            f"{host} goes only to {host} itself or to a realm listed for it under "
            "registry.tokenRealms",
            registry=host,
        )
    return realm


def _may_receive_credential(host: str, realm: str, options: RegistryOptions) -> bool:
    if realm == host.lower().removesuffix(":443"):  # the registry as an https authority
        return True
    registry = normalize_host(host)
    if realm in KNOWN_REALMS.get(registry, frozenset()):
        return True
    return host_in(realm, options.token_realms.get(registry, frozenset()))


def _authority(url: httpx.URL) -> str:
    """``host[:port]`` of an https URL, without the default port."""
    host = url.host if ":" not in url.host else f"[{url.host}]"
    return host if url.port in (None, 443) else f"{host}:{url.port}"
