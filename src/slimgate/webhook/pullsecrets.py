"""Registry credentials from a pod's ``imagePullSecrets`` and its ServiceAccount's.

The kubelet pulls with the pod's own pull secrets plus those of its ServiceAccount
(https://kubernetes.io/docs/concepts/containers/images/#specifying-imagepullsecrets-on-a-pod);
the webhook reads the same secrets, so a private image it can check is one the pod can pull.
Reading them needs RBAC: ``get`` on ``secrets`` and ``serviceaccounts`` cluster-wide.

Secrets are cached for a short TTL (per namespace and name), so a burst of pods from one
Deployment costs one read. A secret that cannot be read (missing, forbidden, malformed) is
skipped and counted; its content never reaches a log. The Kubernetes client is imported
lazily, only when ``registry.pullSecrets`` is enabled.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from slimgate.errors import ConfigError
from slimgate.kube.workloads import PodTemplate
from slimgate.registry.credentials import CredentialStore
from slimgate.webhook.metrics import WebhookMetrics

log = logging.getLogger("slimgate.webhook")

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
_KEYS = {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}


class SecretUnreadable(Exception):
    """A secret or service account that could not be read; the message has no secret data."""


class SecretSource(Protocol):
    """Where pull secrets come from: the Kubernetes API, or a fake in tests."""

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        """The secret's type and its ``data`` (base64 values)."""

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        """The names in the ServiceAccount's ``imagePullSecrets``."""


class PullSecrets:
    """Builds the credential store of a pod template, with a TTL cache in front of the API."""

    def __init__(
        self,
        source: SecretSource,
        metrics: WebhookMetrics,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._metrics = metrics
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str], tuple[float, Any]] = {}

    def store_for(self, template: PodTemplate, timeout: float) -> CredentialStore | None:
        """The template's credentials (pod's secrets first), or None when it has none."""
        namespace = template.namespace
        if not namespace:
            return None
        names = list(template.pull_secrets)
        account = self._cached(
            ("sa", namespace, template.service_account),
            lambda: self._source.service_account_pull_secrets(
                namespace, template.service_account, timeout
            ),
        )
        names.extend(n for n in account or () if n not in names)
        store: CredentialStore | None = None
        for name in reversed(names):  # the first secret named wins for a host
            found = self._cached(
                ("secret", namespace, name), partial(self._read, namespace, name, timeout)
            )
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

    def _cached(self, key: tuple[str, str, str], load: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        try:
            value = load()
        except SecretUnreadable as exc:
            self._metrics.pull_secret_errors.inc()
            log.warning(
                "pull secret skipped",
                extra={"fields": {"namespace": key[1], "object": key[2], "reason": str(exc)}},
            )
            value = None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, value)
        return value


class KubernetesSecrets:
    """:class:`SecretSource` over the Kubernetes API (in-cluster config, else kubeconfig)."""

    def __init__(self) -> None:
        from kubernetes import client, config  # lazy: only when pull secrets are enabled

        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException:
            config.load_kube_config()  # type: ignore[no-untyped-call]
        self._core = client.CoreV1Api()
        self._errors: tuple[type[BaseException], ...] = (
            client.ApiException,
            OSError,
        )

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        try:
            secret = self._core.read_namespaced_secret(name, namespace, _request_timeout=timeout)
        except self._errors as exc:
            raise SecretUnreadable(
                f"cannot read secret {namespace}/{name}: {_why(exc)}"
            ) from None  # the API error's body may quote the secret
        data = {str(k): str(v) for k, v in (secret.data or {}).items()}
        return str(secret.type or ""), data

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        try:
            account = self._core.read_namespaced_service_account(
                name, namespace, _request_timeout=timeout
            )
        except self._errors as exc:
            raise SecretUnreadable(
                f"cannot read service account {namespace}/{name}: {_why(exc)}"
            ) from None
        refs = account.image_pull_secrets or []
        return tuple(str(ref.name) for ref in refs if getattr(ref, "name", None))


def _why(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None)
    if status is not None:
        return f"{status} {reason or ''}".strip()
    return exc.__class__.__name__
