"""The configuration as frozen, typed values: one group per section of the file.

:class:`Settings` holds ``registry``, ``policy``, ``webhook`` and ``operator``; drivers read
these fields and nothing else (no pydantic model, no camelCase document). The groups are
small so a test builds one in a line, and comparable, so a reload can tell what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slimgate.analysis.lineage import DEFAULT_TOOLCHAIN_IMAGES, ToolchainImage
from slimgate.model import DEFAULT_PLATFORM, Platform
from slimgate.policy.model import Policy
from slimgate.registry.credential_programs import ProgramSettings
from slimgate.registry.options import RegistryOptions

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    """``registry:``: the client's options, what to evaluate, where credentials come from."""

    options: RegistryOptions = field(default_factory=RegistryOptions)
    # With ``node_platforms`` (``platforms: auto``), ``platforms`` is the fallback used while
    # the cluster's nodes cannot be listed, and where there is no cluster (``check``).
    platforms: tuple[Platform, ...] = (DEFAULT_PLATFORM,)
    node_platforms: bool = False
    toolchain_images: tuple[ToolchainImage, ...] = DEFAULT_TOOLCHAIN_IMAGES
    docker_config: str | None = None  # dockerconfigjson file of static credentials
    pull_secrets: bool = False  # read imagePullSecrets through the Kubernetes API
    # helpers and kubelet credential-provider plugins (registry.credentialPlugins)
    programs: ProgramSettings = field(default_factory=ProgramSettings)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """``webhook:`` and what the request path reads from elsewhere, as plain values.

    ``deadline`` is computed once: ``deadline_seconds``, else 80 % of the
    ValidatingWebhookConfiguration's ``timeout_seconds``.
    """

    timeout_seconds: float = 5.0
    deadline_seconds: float | None = None
    excluded_namespaces: frozenset[str] = frozenset({"kube-system"})
    namespace: str = "slimgate"
    platforms: tuple[Platform, ...] = (DEFAULT_PLATFORM,)
    node_platforms: bool = False  # registry.platforms: auto
    max_body_bytes: int = 3 * MIB  # the apiserver's own request limit
    reload_interval_seconds: float = 2.0
    pull_secret_ttl_seconds: float = 30.0
    memo_seconds: float = 5.0  # identical reviews within this window reuse the decision
    lookups_per_registry: int = 8  # registry.limits.lookupsPerRegistry
    # Past these, containers are not looked up but share one onRegistryError decision. The
    # API server sets no maximum number of containers, only the 3 MiB body (some 90,000).
    max_containers: int = 1_000  # read per review (init, regular and ephemeral together)
    max_images: int = 256  # distinct images looked up per review
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        given = self.deadline_seconds
        deadline = given if given is not None and given > 0 else 0.8 * self.timeout_seconds
        object.__setattr__(self, "deadline", deadline)

    def skips_namespace(self, namespace: str) -> bool:
        """Its own namespace and ``kube-system`` are never checked (defence in depth)."""
        return namespace == self.namespace or namespace in self.excluded_namespaces


@dataclass(frozen=True, slots=True)
class OperatorSettings:
    """``operator:``: what the audit operator (and ``slimgate audit``) watch and how often."""

    interval_seconds: float = 3600.0
    namespaces: tuple[str, ...] = ()  # globs; empty: every namespace
    excluded_namespaces: tuple[str, ...] = ("kube-system",)  # globs
    workers: int = 4  # images evaluated at once


@dataclass(frozen=True, slots=True)
class Settings:
    """The whole configuration, validated and typed."""

    registry: RegistrySettings
    policy: Policy
    webhook: WebhookSettings
    operator: OperatorSettings
