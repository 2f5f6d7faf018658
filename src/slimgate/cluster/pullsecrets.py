"""Registry credentials from a pod's ``imagePullSecrets`` and its ServiceAccount's.

The kubelet pulls with the pod's own pull secrets plus those of its ServiceAccount
(https://kubernetes.io/docs/concepts/containers/images/#specifying-imagepullsecrets-on-a-pod);
the webhook and the audit operator read the same secrets, so a private image they can check
is one the pod can pull. Reading them needs RBAC: ``get`` on ``secrets`` and
``serviceaccounts`` cluster-wide.

Secrets are cached for a short TTL (per namespace and name), so a burst of pods from one
Deployment costs one read. A secret that cannot be read (missing, forbidden, malformed) is
skipped and counted (``on_skip``); its content never reaches a log. The Kubernetes API
reader is in ``slimgate.cluster.secrets``.

All the reads for one pod (one review, or one workload of an audit) share one budget:
each request gets what is left of it as its timeout, the client never retries, reading
stops once the budget is spent or the API is unreachable, and the caller waits no longer
than the budget even for a read that ignores its timeout. Whatever goes wrong, the review
goes on with the static credentials only, so a private image then gets the
``onRegistryError`` decision like any registry error (an ``error`` result in an audit).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any, Protocol, cast

from slimgate.errors import ConfigError, SecretsUnavailable, SecretUnreadable
from slimgate.kube.workloads import PullAccess
from slimgate.registry.cache import TTLCache
from slimgate.registry.credentials import CredentialStore

log = logging.getLogger("slimgate.pullsecrets")

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
_KEYS = {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}


class SecretSource(Protocol):
    """Where pull secrets come from: the Kubernetes API, or a fake in tests.

    ``timeout`` is the seconds left of the review's budget for this one request.
    """

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        """The secret's type and its ``data`` (base64 values)."""

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        """The names in the ServiceAccount's ``imagePullSecrets``."""


class _Stop(Exception):
    """Reading stops: the budget is spent or the API is unreachable (already counted)."""


_MISS = object()


class PullSecrets:
    """Builds the credential store of a pod template, with a TTL cache in front of the API.

    Reads run on ``executor`` (a small pool of its own unless one is given), so the caller
    waits at most the budget however long a read takes.
    """

    def __init__(
        self,
        source: SecretSource,
        on_skip: Callable[[], None] = lambda: None,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        executor: Executor | None = None,
    ) -> None:
        self._source = source
        self._on_skip = on_skip
        self._clock = clock
        self._cache: TTLCache[tuple[Any]] = TTLCache(ttl, clock, 10_000)  # a read's answer
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="slimgate-pull-secrets"
        )

    def store_for(self, access: PullAccess, budget: float) -> CredentialStore | None:
        """The pod's credentials (its own secrets first), or None when it has none.

        Takes at most ``budget`` seconds and never raises: a read that fails or is cut off
        is counted and logged, and the review goes on with what could be read (at worst
        nothing, so the static credentials only).
        """
        if not access.namespace:
            return None
        deadline = self._clock() + budget
        cached = self._collect(access, deadline, cached_only=True)
        if cached is not _MISS:
            return cast("CredentialStore | None", cached)
        if budget <= 0:
            self._failed(access, "no time left before the deadline")
            return None
        try:
            future = self._executor.submit(self._collect, access, deadline)
            return cast("CredentialStore | None", future.result(timeout=budget))
        except FutureTimeout:
            self._failed(access, f"not read within {budget:.2f} s")
        except Exception as exc:  # noqa: BLE001 - counted and logged; static credentials
            # a bug or a client error we did not foresee
            self._failed(access, f"unexpected {exc.__class__.__name__}")
        return None

    def close(self) -> None:
        """Stop the reader's own threads (a read in progress finishes in the background)."""
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _collect(self, access: PullAccess, deadline: float, *, cached_only: bool = False) -> Any:
        """The store, or ``_MISS`` when ``cached_only`` and something is not cached."""
        namespace, account_name = access.namespace, access.service_account
        names = list(access.pull_secrets)
        stores: list[CredentialStore | None] = []
        try:
            account = self._cached(
                ("sa", namespace, account_name),
                partial(self._source.service_account_pull_secrets, namespace, account_name),
                deadline,
                cached_only,
            )
            if account is _MISS:
                return _MISS
            names.extend(n for n in account or () if n not in names)
            for name in names:
                found = self._cached(
                    ("secret", namespace, name),
                    partial(self._read, namespace, name),
                    deadline,
                    cached_only,
                )
                if found is _MISS:
                    return _MISS
                stores.append(found)
        except _Stop:
            pass  # use what was read: each credential still goes to its exact host only
        store: CredentialStore | None = None
        for found in reversed(stores):  # the first secret named wins for a host
            if found is not None:
                store = found.over(store)
        return store

    def _read(self, namespace: str, name: str, timeout: float) -> CredentialStore:
        kind, data = self._source.secret(namespace, name, timeout)
        key = _KEYS.get(kind)
        if key is None or key not in data:
            raise SecretUnreadable(f"secret {namespace}/{name} is not of type {DOCKERCONFIGJSON}")
        try:
            document = base64.b64decode(data[key], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SecretUnreadable(f"secret {namespace}/{name} is not base64") from exc
        try:
            return CredentialStore.from_docker_config(document, source=f"secret {namespace}/{name}")
        except ConfigError as exc:
            raise SecretUnreadable(str(exc)) from exc

    def _cached(
        self,
        key: tuple[str, str, str],
        load: Callable[[float], Any],
        deadline: float,
        cached_only: bool,
    ) -> Any:
        hit = self._cache.get(key)
        if hit is not None:
            return hit[0]
        if cached_only:
            return _MISS
        remaining = deadline - self._clock()
        if remaining <= 0:  # never 0: the Kubernetes client takes 0 for "no timeout"
            self._skipped(key, "no time left before the deadline")
            raise _Stop
        try:
            value = load(remaining)
        except SecretsUnavailable as exc:
            self._skipped(key, str(exc))
            raise _Stop from None
        except SecretUnreadable as exc:
            self._skipped(key, str(exc))
            value = None
        except Exception as exc:  # noqa: BLE001 - counted; its message may quote data
            self._skipped(key, f"unexpected {exc.__class__.__name__}")
            raise _Stop from None
        self._cache.put(key, (value,))
        return value

    def _skipped(self, key: tuple[str, str, str], reason: str) -> None:
        self._count("pull secret skipped", key[1], key[2], reason)

    def _failed(self, access: PullAccess, reason: str) -> None:
        message = "pull secrets not read; static credentials only"
        self._count(message, access.namespace, access.service_account, reason)

    def _count(self, message: str, namespace: str, name: str, reason: str) -> None:
        self._on_skip()
        fields = {"namespace": namespace, "object": name, "reason": reason}
        log.warning(message, extra={"fields": fields})
