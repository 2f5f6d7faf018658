"""The webhook's own settings as plain values, read from the ``webhook:`` config section.

Kept separate from the pydantic configuration so the request path reads a few frozen
fields and tests can build one in a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slimgate.model import DEFAULT_PLATFORM, Platform

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """``deadline_seconds`` defaults to 80 % of the ValidatingWebhookConfiguration timeout."""

    timeout_seconds: float = 5.0
    deadline_seconds: float | None = None
    excluded_namespaces: frozenset[str] = frozenset({"kube-system"})
    namespace: str = "slimgate"
    platforms: tuple[Platform, ...] = (DEFAULT_PLATFORM,)
    pull_secrets: bool = False
    max_body_bytes: int = 3 * MIB  # the apiserver's own request limit
    reload_interval_seconds: float = 2.0
    pull_secret_ttl_seconds: float = 30.0
    memo_seconds: float = 5.0  # identical reviews within this window reuse the decision

    @property
    def deadline(self) -> float:
        if self.deadline_seconds is not None and self.deadline_seconds > 0:
            return self.deadline_seconds
        return 0.8 * self.timeout_seconds

    def skips_namespace(self, namespace: str) -> bool:
        """Its own namespace and ``kube-system`` are never checked (defence in depth)."""
        return namespace == self.namespace or namespace in self.excluded_namespaces

    @classmethod
    def from_config(cls, settings: Any) -> WebhookSettings:
        """Read the validated configuration (``slimgate.config``) into webhook settings."""
        hook = getattr(settings, "webhook", None)
        registry = getattr(settings, "registry", None)
        defaults = cls()
        timeout = float(_get(hook, "timeout_seconds", "timeoutSeconds", defaults.timeout_seconds))
        deadline = _get(hook, "deadline_seconds", "deadlineSeconds", None)
        excluded = _get(hook, "excluded_namespaces", "excludedNamespaces", None)
        namespace = _get(hook, "namespace", "namespace", defaults.namespace)
        platforms = _get(registry, "platforms", "platforms", None)
        pull_secrets = bool(_get(registry, "pull_secrets", "pullSecrets", False))
        return cls(
            timeout_seconds=timeout,
            deadline_seconds=float(deadline) if deadline is not None else None,
            excluded_namespaces=(
                frozenset(excluded) if excluded is not None else defaults.excluded_namespaces
            ),
            namespace=str(namespace),
            platforms=_platforms(platforms),
            pull_secrets=pull_secrets,
        )


def _get(section: Any, attribute: str, key: str, default: Any) -> Any:
    if section is None:
        return default
    if isinstance(section, dict):
        return section.get(key, section.get(attribute, default))
    return getattr(section, attribute, default)


def _platforms(values: Any) -> tuple[Platform, ...]:
    if not values:
        return (DEFAULT_PLATFORM,)
    return tuple(v if isinstance(v, Platform) else Platform.parse(str(v)) for v in values)
