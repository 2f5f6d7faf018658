"""The pull-secret reader over the Kubernetes API (core/v1 Secret and ServiceAccount reads).

Separate from ``pullsecrets`` so the client is imported lazily, only when
``registry.pullSecrets`` is enabled. Errors become :class:`SecretUnreadable` (the API
answered: missing, forbidden) or :class:`SecretsUnavailable` (it did not); neither message
carries the API's response body, which may quote the secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from slimgate.errors import SecretsUnavailable, SecretUnreadable


class KubernetesSecrets:
    """:class:`SecretSource` over the Kubernetes API (in-cluster config, else kubeconfig).

    The client has its own configuration (the library's global default is left alone) and
    never retries: the budget of a review is spent on one attempt per object.
    """

    def __init__(self, kubeconfig: str | None = None, configuration: Any = None) -> None:
        """``configuration``: a ``kubernetes.client.Configuration`` to copy (the operator's
        or the CLI's own); else the one ``kubeconfig`` names (in-cluster when none is)."""
        import urllib3  # lazy, like the client below
        from kubernetes import client  # lazy: only when pull secrets are enabled

        from slimgate.cluster.api import own_configuration

        configuration = own_configuration(configuration, kubeconfig)
        configuration.retries = 0  # urllib3 raises after the first failed attempt
        configuration.client_go_retries = False
        self._api = client.ApiClient(configuration)
        self._core = client.CoreV1Api(self._api)
        self._refused: tuple[type[BaseException], ...] = (client.ApiException,)
        self._unreachable: tuple[type[BaseException], ...] = (
            urllib3.exceptions.HTTPError,
            OSError,
        )

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """API errors as ours, naming ``what`` and no more: the API error's body may quote
        the secret."""
        try:
            yield
        except self._refused as exc:
            raise SecretUnreadable(f"cannot read {what}: {_why(exc)}") from None
        except self._unreachable as exc:
            raise SecretsUnavailable(f"cannot read {what}: {_why(exc)}") from None

    def secret(self, namespace: str, name: str, timeout: float) -> tuple[str, dict[str, str]]:
        with self._reading(f"secret {namespace}/{name}"):
            secret = self._core.read_namespaced_secret(name, namespace, _request_timeout=timeout)
        data = {str(k): str(v) for k, v in (secret.data or {}).items()}
        return str(secret.type or ""), data

    def service_account_pull_secrets(
        self, namespace: str, name: str, timeout: float
    ) -> tuple[str, ...]:
        with self._reading(f"service account {namespace}/{name}"):
            account = self._core.read_namespaced_service_account(
                name, namespace, _request_timeout=timeout
            )
        refs = account.image_pull_secrets or []
        return tuple(str(ref.name) for ref in refs if getattr(ref, "name", None))

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]


def _why(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None)
    if status is not None:
        return f"{status} {reason or ''}".strip()
    return exc.__class__.__name__
