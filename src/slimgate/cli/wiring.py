"""Build the engine a CLI command runs, from the configuration and the command line.

The same parts as the webhook's: the registry client (created only when a registry
reference is fetched), the local image sources, the lazy lineage resolver and the
:class:`~slimgate.evaluation.Evaluator` over the configured policy.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence

from slimgate.config import Settings
from slimgate.evaluation import Evaluator, ImageSource
from slimgate.model import Platform
from slimgate.sources.router import SourceRouter


def _registry_client(settings: Settings, insecure: Sequence[str]) -> Callable[[], ImageSource]:
    """A factory of the registry client. The credentials file is read now, so a missing or
    bad ``registry.dockerConfig`` is a usage error before anything is looked up."""
    from slimgate.registry.credentials import CredentialStore

    docker_config = settings.registry.docker_config
    credentials = CredentialStore.from_file(docker_config) if docker_config else None
    options = settings.registry.options.with_insecure(insecure)

    def make() -> ImageSource:
        from slimgate.registry import RegistryClient

        return RegistryClient.from_options(options, credentials=credentials)

    return make


def build_evaluator(
    settings: Settings,
    *,
    insecure: Sequence[str] = (),
    lineage: bool = True,
    today: Callable[[], datetime.date] = datetime.date.today,
) -> tuple[Evaluator, SourceRouter]:
    """The evaluator, and the router to close when done.

    Raises :class:`~slimgate.errors.ConfigError` when the credentials file cannot be read.
    """
    registry = settings.registry
    router = SourceRouter(_registry_client(settings, insecure), registry.options.limits.documents)
    provider = None
    if lineage and registry.toolchain_images:
        from slimgate.lineage_resolver import LineageResolver

        provider = LineageResolver(
            router,
            registry.toolchain_images,
            wait_seconds=registry.options.limits.lookup_seconds,
        )
    evaluator = Evaluator(
        router,
        settings.policy,
        settings.knowledge,
        today=today,
        lineage=provider,
        clock=time.thread_time,
    )
    return evaluator, router


def parse_platforms(texts: Sequence[str] | None, settings: Settings) -> tuple[Platform, ...]:
    """``--platform`` values (deduplicated, in order), else the configured platforms."""
    if not texts:
        return settings.registry.platforms
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
