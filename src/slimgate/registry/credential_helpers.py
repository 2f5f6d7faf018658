"""Docker credential helpers: ``credHelpers`` and ``credsStore`` of a dockerconfigjson.

The protocol is the one of docker/docker-credential-helpers (``client/client.go``): the
program ``docker-credential-<name>`` is run with the argument ``get``, the server URL on
stdin, and prints ``{"ServerURL": ..., "Username": ..., "Secret": ...}``. A ``Username`` of
``<token>`` means the secret is an identity token (an OAuth2 refresh token), not a password.
A helper that has nothing for the server exits non-zero and prints
``credentials not found in native keychain``: that is no credential, not a failure.

The server URL is the registry's host (``https://index.docker.io/v1/`` for Docker Hub, as
the Docker CLI asks), and an answer is used only for that host: one whose ``ServerURL``
names another host is refused. Answers, the not-found ones included, are kept for the
configured number of seconds, and concurrent lookups for one host share one run. The
programs run by :func:`slimgate.registry.programs.run_program`, so what they print is
never logged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slimgate.errors import CredentialsUnavailable, TimedOut
from slimgate.registry.cache import TTLCache
from slimgate.registry.credentials import Credential, normalize_key
from slimgate.registry.flight import SingleFlight
from slimgate.registry.limits import Deadline
from slimgate.registry.programs import ProgramFailed, run_program

NOT_FOUND = b"credentials not found in native keychain"
IDENTITY_TOKEN_USER = "<token>"  # noqa: S105 (the protocol's marker, not a secret)
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"
MAX_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class HelperSpec:
    """One helper program: its name (``ecr-login``) and its absolute path."""

    name: str
    path: str


def server_url(host: str) -> str:
    """What a helper is asked about for ``host`` (Docker Hub's historic URL for Hub)."""
    return DOCKER_HUB_SERVER if host == "docker.io" else host


class CredentialHelper:
    """One ``docker-credential-<name>`` program, its answers kept per host."""

    def __init__(
        self,
        spec: HelperSpec,
        *,
        env: Mapping[str, str],
        timeout: float,
        cache_seconds: float,
        report: Callable[[str, str], None],
        cache_hit: Callable[[bool], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self._env = dict(env)
        self._timeout = timeout
        self._report = report
        self._cache_hit = cache_hit
        # One-tuples, so that "no credential" is an answer the cache keeps too.
        self._cache: TTLCache[tuple[Credential | None]] = TTLCache(
            cache_seconds, clock, MAX_ENTRIES
        )
        self._flight: SingleFlight[Credential | None] = SingleFlight()

    @property
    def label(self) -> str:
        return f"docker-credential-{self.spec.name}"

    def credential(self, host: str, deadline: Deadline) -> Credential | None:
        """The helper's credential for exactly ``host``, or None when it has none."""
        cached = self._cache.get(host)
        self._cache_hit(cached is not None)
        if cached is not None:
            return cached[0]
        return self._flight.do(host, lambda: self._fetch(host, deadline))

    def _fetch(self, host: str, deadline: Deadline) -> Credential | None:
        found = self._run(host, deadline)
        self._cache.put(host, (found,))
        return found

    def _run(self, host: str, deadline: Deadline) -> Credential | None:
        try:
            left = deadline.remaining(registry=host)
        except TimedOut:
            self._report(self.label, "timeout")
            raise self._failed(host, "not run: the lookup deadline had passed") from None
        server = server_url(host)
        try:
            completed = run_program(
                self.spec.path, ("get",), server.encode(), self._env, min(self._timeout, left)
            )
        except ProgramFailed as exc:
            self._report(self.label, "timeout" if exc.timed_out else "error")
            raise self._failed(host, exc.reason) from None
        if completed.status != 0:
            if completed.stdout.strip() == NOT_FOUND:
                self._report(self.label, "not-found")
                return None
            self._report(self.label, "error")
            raise self._failed(host, f"exited with status {completed.status}")
        try:
            credential = _parse(completed.stdout, host)
        except ValueError as exc:
            self._report(self.label, "invalid")
            raise self._failed(host, str(exc)) from None
        self._report(self.label, "ok")
        return credential

    def _failed(self, host: str, reason: str) -> CredentialsUnavailable:
        return CredentialsUnavailable(
            f"{host}: credential helper {self.label} failed: {reason}", registry=host
        )


def _parse(stdout: bytes, host: str) -> Credential | None:
    """The helper's answer for ``host``; the messages never quote it (it holds a secret)."""
    try:
        data = json.loads(stdout)
    except (ValueError, RecursionError):
        raise ValueError("its output is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("its output is not a JSON object")
    server, username, secret = data.get("ServerURL"), data.get("Username"), data.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise ValueError("its answer has no Username and Secret")
    if isinstance(server, str) and server and normalize_key(server) != host:
        raise ValueError("its answer is for another server")
    if not secret:
        return None
    if username == IDENTITY_TOKEN_USER:
        return Credential(identity_token=secret)
    return Credential(username=username, password=secret)
