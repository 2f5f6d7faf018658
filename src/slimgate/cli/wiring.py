"""Build the engine a CLI command runs, from the configuration and the command line.

The same parts as the webhook's: the registry client (created only when a registry
reference is fetched), the local image sources, the lazy lineage resolver and the
:class:`~slimgate.evaluation.Evaluator` over the configured policy.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from slimgate.config import Config
from slimgate.evaluation import Evaluator, ImageSource
from slimgate.model import Platform
from slimgate.sources.router import SourceRouter


def _registry_client(config: Config, insecure: Sequence[str]) -> Callable[[], ImageSource]:
    def make() -> ImageSource:
        from slimgate.registry import CredentialStore, RegistryClient

        docker_config = config.registry.docker_config
        credentials = CredentialStore.from_file(docker_config) if docker_config else None
        return RegistryClient.from_options(
            config.registry_options(insecure=tuple(insecure)), credentials=credentials
        )

    return make


def build_evaluator(
    config: Config,
    *,
    insecure: Sequence[str] = (),
    lineage: bool = True,
    today: Callable[[], datetime.date] = datetime.date.today,
) -> tuple[Evaluator, SourceRouter]:
    """The evaluator, and the router to close when done."""
    from slimgate.registry.options import Limits

    limits = config.registry.limits
    router = SourceRouter(
        _registry_client(config, insecure),
        Limits(
            manifest_bytes=limits.manifest_bytes,
            config_bytes=limits.config_bytes,
            index_entries=limits.index_entries,
        ),
    )
    provider = None
    if lineage and config.toolchain_images():
        from slimgate.lineage_resolver import LineageResolver

        provider = LineageResolver(
            router, config.toolchain_images(), wait_seconds=limits.lookup_seconds
        )
    evaluator = Evaluator(
        router, config.policy_value(), config.knowledge(), today=today, lineage=provider
    )
    return evaluator, router


def parse_platforms(texts: Sequence[str] | None, config: Config) -> tuple[Platform, ...]:
    """``--platform`` values (deduplicated, in order), else the configured platforms."""
    if not texts:
        return config.platforms()
    return tuple(dict.fromkeys(Platform.parse(text) for text in texts))


def parse_pairs(texts: Sequence[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` option values (``--label``, ``--build-arg``) as a mapping."""
    from slimgate.errors import UsageError

    labels: dict[str, str] = {}
    for text in texts or ():
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid {option} {text!r}: expected KEY=VALUE")
        labels[key] = value
    return labels
