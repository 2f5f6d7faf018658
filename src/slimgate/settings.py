"""The engine's values from a configuration document: policy, platforms, lineage images.

A configuration document is the YAML file's shape (camelCase keys). :mod:`slimgate.config`
validates a user's document with pydantic and hands its dump here; the built-in document
(``slimgate/defaults/config.yaml``, validated by the test suite) is read here directly, so
``slimgate check`` without ``--config`` never loads the validation machinery and starts
fast. Both paths build the values with the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slimgate.analysis import rules
from slimgate.analysis.knowledge import Knowledge, Thresholds
from slimgate.analysis.lineage import DEFAULT_TOOLCHAIN_IMAGES, ToolchainImage
from slimgate.model import Platform
from slimgate.policy.decision import Exemption, Mode, RuleAction, Verdict
from slimgate.policy.model import Policy
from slimgate.reference import ImageReference

if TYPE_CHECKING:
    from slimgate.registry.options import Limits, RegistryOptions

Document = Mapping[str, Any]
DEFAULT_SOURCE = "slimgate/defaults/config.yaml"


def default_text() -> str:
    """The built-in configuration file shipped in the package."""
    return (resources.files("slimgate") / "defaults" / "config.yaml").read_text("utf-8")


def default_document() -> dict[str, Any]:
    from slimgate.config_yaml import load_yaml

    data, _ = load_yaml(default_text(), DEFAULT_SOURCE)
    return dict(data)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def policy_from(section: Document) -> Policy:
    """The ``policy:`` section as the value :func:`slimgate.policy.decide.decide` takes."""
    thresholds = section["thresholds"]
    return Policy(
        rules={str(rule): RuleAction(action) for rule, action in section["rules"].items()},
        mode=Mode(section["mode"]),
        namespace_modes={str(ns): Mode(mode) for ns, mode in section["namespaceModes"].items()},
        on_registry_error=Verdict(section["onRegistryError"]),
        thresholds=Thresholds.from_megabytes(
            float(thresholds["layerMegabytes"]), float(thresholds["imageMegabytes"])
        ),
        exemptions=tuple(
            Exemption(
                reason=str(item["reason"]).strip(),
                namespaces=tuple(item.get("namespaces") or ()),
                images=tuple(item.get("images") or ()),
                labels=tuple(sorted((item.get("labels") or {}).items())),
                expires=_date(item.get("expires")),
            )
            for item in section["exemptions"]
        ),
    )


def platforms_from(section: Document) -> tuple[Platform, ...]:
    return tuple(dict.fromkeys(Platform.parse(p) for p in section["platforms"]))


def toolchain_images_from(section: Document) -> tuple[ToolchainImage, ...]:
    """``registry.knownToolchainImages``: the built-in list when unset."""
    configured = section.get("knownToolchainImages")
    if configured is None:
        return DEFAULT_TOOLCHAIN_IMAGES
    images = []
    for item in configured:
        entry = {"image": item} if isinstance(item, str) else item
        parsed = ImageReference.parse(entry["image"])
        name = entry.get("name") or parsed.repository.rsplit("/", 1)[-1]
        images.append(
            ToolchainImage(
                str(parsed),
                entry.get("rule") or rules.TOOLCHAIN_BASE,
                name,
                entry.get("ecosystem") or "generic",
            )
        )
    return tuple(images)


def limits_from(section: Document) -> Limits:
    from slimgate.registry.options import Limits

    limits = section["limits"]
    return Limits(
        manifest_bytes=int(limits["manifestBytes"]),
        config_bytes=int(limits["configBytes"]),
        index_entries=int(limits["indexEntries"]),
        redirects=int(limits["redirects"]),
        lookup_seconds=float(limits["lookupSeconds"]),
        breaker_timeouts=int(limits["breakerTimeouts"]),
        breaker_seconds=float(limits["breakerSeconds"]),
    )


def registry_options_from(section: Document, insecure: Sequence[str] = ()) -> RegistryOptions:
    """The registry client's options; ``insecure`` adds hosts (``--insecure-registry``)."""
    # Imported here: until the registry package loads lazily, it brings the HTTP stack.
    from slimgate.registry.options import CacheOptions, RegistryOptions

    cache = section["cache"]
    return RegistryOptions(
        insecure=frozenset((*section["insecure"], *insecure)),
        allow_private=frozenset(section["allowPrivate"]),
        allow=frozenset(section["allow"]),
        deny=frozenset(section["deny"]),
        ca_bundle=section["caBundle"],
        mirrors={str(k): tuple(v) for k, v in section["mirrors"].items()},
        token_realms={str(k): frozenset(v) for k, v in section["tokenRealms"].items()},
        limits=limits_from(section),
        cache=CacheOptions(
            max_bytes=int(cache["maxBytes"]),
            tag_ttl_seconds=float(cache["tagTtlSeconds"]),
            negative_ttl_seconds=float(cache["negativeTtlSeconds"]),
            max_entries=int(cache["maxEntries"]),
        ),
    )


@dataclass(frozen=True, slots=True)
class Settings:
    """What a command needs from the configuration to build the engine."""

    policy: Policy
    platforms: tuple[Platform, ...]
    toolchain_images: tuple[ToolchainImage, ...]
    docker_config: str | None
    lookup_seconds: float
    registry: Document = field(repr=False)  # the registry section, for the lazy parts

    @classmethod
    def from_document(cls, document: Document) -> Settings:
        registry = document["registry"]
        return cls(
            policy=policy_from(document["policy"]),
            platforms=platforms_from(registry),
            toolchain_images=toolchain_images_from(registry),
            docker_config=registry["dockerConfig"],
            lookup_seconds=float(registry["limits"]["lookupSeconds"]),
            registry=registry,
        )

    def knowledge(self) -> Knowledge:
        return Knowledge(thresholds=self.policy.thresholds)

    def limits(self) -> Limits:
        return limits_from(self.registry)

    def registry_options(self, *, insecure: Sequence[str] = ()) -> RegistryOptions:
        return registry_options_from(self.registry, insecure)


def load_settings(path: str | Path | None) -> Settings:
    """The settings of the file at ``path``, validated; None: the built-in configuration,
    read without loading the validator."""
    if path is None:
        return Settings.from_document(default_document())
    from slimgate.config import load_config

    return load_config(path).settings()
