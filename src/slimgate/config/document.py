"""A configuration document (the YAML file's shape, camelCase keys) -> typed settings.

Both ways in end here: the built-in document read as it is (``load_settings(None)``, which
never loads the validator) and a user's file after validation (its dump, with every key
present). So one set of functions builds the values, and the built-in document must
validate unchanged (the test suite checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slimgate.analysis import rules
from slimgate.analysis.knowledge import Thresholds
from slimgate.analysis.lineage import DEFAULT_TOOLCHAIN_IMAGES, ToolchainImage
from slimgate.config.providers import read_provider_config
from slimgate.config.settings import (
    OperatorSettings,
    RegistrySettings,
    Settings,
    WebhookSettings,
)
from slimgate.model import DEFAULT_PLATFORM, Platform
from slimgate.policy.decision import Exemption, Mode, RuleAction, Verdict
from slimgate.policy.model import Policy
from slimgate.reference import ImageReference
from slimgate.registry.credential_programs import ProgramSettings
from slimgate.registry.options import (
    CacheOptions,
    Limits,
    RegistryOptions,
    SharedCacheOptions,
)

Document = Mapping[str, Any]


def settings_from(document: Document) -> Settings:
    """Every section of a complete document as typed settings."""
    registry = registry_from(document["registry"])
    hook = document["webhook"]
    operator = document["operator"]
    return Settings(
        registry=registry,
        policy=policy_from(document["policy"]),
        webhook=WebhookSettings(
            timeout_seconds=float(hook["timeoutSeconds"]),
            deadline_seconds=_seconds(hook["deadlineSeconds"]),
            excluded_namespaces=frozenset(hook["excludedNamespaces"]),
            namespace=str(hook["namespace"]),
            platforms=registry.platforms,
            node_platforms=registry.node_platforms,
            lookups_per_registry=int(document["registry"]["limits"]["lookupsPerRegistry"]),
        ),
        operator=OperatorSettings(
            interval_seconds=float(operator["intervalSeconds"]),
            namespaces=tuple(operator["namespaces"]),
            excluded_namespaces=tuple(operator["excludedNamespaces"]),
            workers=int(operator["workers"]),
        ),
    )


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


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
                expires=item.get("expires"),  # validated: a date (the defaults have none)
            )
            for item in section["exemptions"]
        ),
    )


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


def shared_cache_from(section: Document) -> SharedCacheOptions | None:
    """``registry.sharedCache``: None without a url (off)."""
    if section["url"] is None:
        return None
    return SharedCacheOptions(
        url=str(section["url"]),
        secret_file=str(section["secretFile"]),
        username=section["username"],
        password_file=section["passwordFile"],
        ca_file=section["caFile"],
        key_prefix=str(section["keyPrefix"]),
        timeout_seconds=int(section["timeoutMilliseconds"]) / 1000,
        retry_seconds=float(section["retrySeconds"]),
        lock_seconds=float(section["lockSeconds"]),
        wait_seconds=float(section["waitSeconds"]),
    )


def registry_from(section: Document) -> RegistrySettings:
    """The ``registry:`` section: the client's options once, and the rest beside them."""
    limits, cache = section["limits"], section["cache"]
    options = RegistryOptions(
        insecure=frozenset(section["insecure"]),
        allow_private=frozenset(section["allowPrivate"]),
        allow=frozenset(section["allow"]),
        deny=frozenset(section["deny"]),
        ca_bundle=section["caBundle"],
        mirrors={str(k): tuple(v) for k, v in section["mirrors"].items()},
        token_realms={str(k): frozenset(v) for k, v in section["tokenRealms"].items()},
        limits=Limits(
            manifest_bytes=int(limits["manifestBytes"]),
            config_bytes=int(limits["configBytes"]),
            index_entries=int(limits["indexEntries"]),
            redirects=int(limits["redirects"]),
            lookup_seconds=float(limits["lookupSeconds"]),
            breaker_timeouts=int(limits["breakerTimeouts"]),
            breaker_seconds=float(limits["breakerSeconds"]),
        ),
        cache=CacheOptions(
            max_bytes=int(cache["maxBytes"]),
            tag_ttl_seconds=float(cache["tagTtlSeconds"]),
            negative_ttl_seconds=float(cache["negativeTtlSeconds"]),
            max_entries=int(cache["maxEntries"]),
            stale_grace_seconds=float(cache["staleGraceSeconds"]),
        ),
        shared=shared_cache_from(section["sharedCache"]),
    )
    auto = section["platforms"] in ("auto", ["auto"])  # validated: ["auto"]
    listed = () if auto else section["platforms"]
    return RegistrySettings(
        options=options,
        platforms=tuple(dict.fromkeys(Platform.parse(p) for p in listed)) or (DEFAULT_PLATFORM,),
        node_platforms=auto,
        toolchain_images=toolchain_images_from(section),
        docker_config=section["dockerConfig"],
        pull_secrets=bool(section["pullSecrets"]),
        programs=programs_from(section["credentialPlugins"]),
    )


def programs_from(section: Document) -> ProgramSettings:
    """``registry.credentialPlugins``, with the plugins of its provider configuration."""
    bin_dir = section["binDir"]
    path = section["providerConfig"]
    providers = read_provider_config(path, bin_dir) if path is not None else ()
    return ProgramSettings(
        providers=providers,
        bin_dir=bin_dir,
        inherit_env=tuple(section["inheritEnv"]),
        timeout_seconds=float(section["timeoutSeconds"]),
        helper_cache_seconds=float(section["helperCacheSeconds"]),
    )
