"""The webhook's own settings as plain values, read from the ``webhook:`` config section.

Kept separate from the pydantic configuration so the request path reads a few frozen
fields and tests can build one in a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from slimgate.model import DEFAULT_PLATFORM, Platform

if TYPE_CHECKING:
    from slimgate.config import Config

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """``deadline_seconds`` defaults to 80 % of the ValidatingWebhookConfiguration timeout."""

    timeout_seconds: float = 5.0
    deadline_seconds: float | None = None
    excluded_namespaces: frozenset[str] = frozenset({"kube-system"})
    namespace: str = "slimgate"
    platforms: tuple[Platform, ...] = (DEFAULT_PLATFORM,)
    max_body_bytes: int = 3 * MIB  # the apiserver's own request limit
    reload_interval_seconds: float = 2.0
    pull_secret_ttl_seconds: float = 30.0
    memo_seconds: float = 5.0  # identical reviews within this window reuse the decision
    lookups_per_registry: int = 8  # registry.limits.lookupsPerRegistry
    # Past these, containers are not looked up but share one onRegistryError decision. The
    # API server sets no maximum number of containers, only the 3 MiB body (some 90,000).
    max_containers: int = 1_000  # read per review (init, regular and ephemeral together)
    max_images: int = 256  # distinct images looked up per review

    @property
    def deadline(self) -> float:
        if self.deadline_seconds is not None and self.deadline_seconds > 0:
            return self.deadline_seconds
        return 0.8 * self.timeout_seconds

    def skips_namespace(self, namespace: str) -> bool:
        """Its own namespace and ``kube-system`` are never checked (defence in depth)."""
        return namespace == self.namespace or namespace in self.excluded_namespaces

    @classmethod
    def from_config(cls, config: Config) -> WebhookSettings:
        """The ``webhook:`` section and the platforms of the validated configuration."""
        hook = config.webhook
        return cls(
            timeout_seconds=float(hook.timeout_seconds),
            deadline_seconds=hook.deadline,
            excluded_namespaces=frozenset(hook.excluded_namespaces),
            namespace=hook.namespace,
            platforms=config.platforms(),
            lookups_per_registry=config.registry.limits.lookups_per_registry,
        )
