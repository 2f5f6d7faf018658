"""The configuration schema: pydantic models, private to :mod:`slimgate.config`.

The user's file is laid over the built-in one (``slimgate/defaults/config.yaml``): mappings
merge key by key, lists and scalars replace. Validation is pydantic's, with
``extra="forbid"`` everywhere, and every error is reported as ``FILE:LINE: key.path[0].name:
what is wrong`` — the reader records the line of every mapping key and sequence item, and
pydantic's error location is mapped back onto it. :func:`validate` hands back the complete
document (the models' dump); :mod:`slimgate.config.document` makes the typed settings of it,
so nothing outside this package sees pydantic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from slimgate.analysis import rules
from slimgate.config.reader import DEFAULT_SOURCE, KeyPath, default_text, load_yaml, located
from slimgate.errors import ConfigError, InvalidPlatform, InvalidReference
from slimgate.model import Platform
from slimgate.policy.decision import Mode, RuleAction
from slimgate.reference import ImageReference

# --- the schema ------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, frozen=True, validate_default=True
    )


def _platform(text: str) -> str:
    try:
        return str(Platform.parse(text))
    except InvalidPlatform as exc:
        raise ValueError(str(exc)) from None


def _reference(text: str) -> str:
    try:
        return str(ImageReference.parse(text))
    except InvalidReference as exc:
        raise ValueError(str(exc)) from None


def _known_rule(rule: str) -> str:
    if rule not in rules.RULE_IDS or rule in rules.UNEVALUATED:
        known = ", ".join(r for r in rules.RULE_IDS if r not in rules.UNEVALUATED)
        hint = " (set policy.onRegistryError instead)" if rule in rules.UNEVALUATED else ""
        raise ValueError(f"unknown rule {rule!r}{hint}; rules are: {known}")
    return rule


def _host(text: str) -> str:
    """``host`` or ``host:port`` (``[v6]:port``), nothing more."""
    if not _HOST_RE.fullmatch(text):
        raise ValueError(f"{text!r} is not a host or host:port (no scheme, path or credentials)")
    return text.lower()


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")

PlatformText = Annotated[str, AfterValidator(_platform)]
ReferenceText = Annotated[str, AfterValidator(_reference)]
RuleId = Annotated[str, AfterValidator(_known_rule)]
Positive = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonEmpty = Annotated[str, Field(min_length=1)]
HostText = Annotated[str, AfterValidator(_host)]


class LimitsConfig(_Section):
    manifest_bytes: Positive
    config_bytes: Positive
    index_entries: Positive
    redirects: Annotated[int, Field(ge=0)]
    lookup_seconds: PositiveFloat
    lookups_per_registry: Positive
    breaker_timeouts: Positive
    breaker_seconds: Annotated[float, Field(ge=0)]


class CacheConfig(_Section):
    max_bytes: Annotated[int, Field(ge=0)]
    tag_ttl_seconds: Annotated[float, Field(ge=0)]
    negative_ttl_seconds: Annotated[float, Field(ge=0)]
    max_entries: Positive
    stale_grace_seconds: Annotated[float, Field(ge=0)]


class SharedCacheConfig(_Section):
    url: NonEmpty | None
    username: NonEmpty | None
    password_file: NonEmpty | None
    ca_file: NonEmpty | None
    secret_file: NonEmpty | None
    key_prefix: str
    timeout_milliseconds: Annotated[int, Field(ge=1, le=5000)]
    retry_seconds: Annotated[float, Field(ge=0)]
    lock_seconds: PositiveFloat
    wait_seconds: Annotated[float, Field(ge=0)]

    @field_validator("url")
    @classmethod
    def _store_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://")):
            raise ValueError("the url must start with redis:// or rediss:// (TLS)")
        if url is not None and "@" in url.partition("://")[2].partition("/")[0]:
            raise ValueError(
                "put the user in username and the password in passwordFile, not in the url"
            )
        if url is not None and ("?" in url or "#" in url):
            # redis-py would take ?password= (or ?ssl_cert_reqs=none) from the url over
            # passwordFile and caFile.
            raise ValueError(
                "the url takes no query: username, passwordFile, caFile and "
                "timeoutMilliseconds are keys of their own"
            )
        return url

    @model_validator(mode="after")
    def _complete(self) -> SharedCacheConfig:
        if self.url is not None and self.secret_file is None:
            raise ValueError("secretFile is required with a url: it keys the store's tag keys")
        if self.ca_file is not None and not (self.url or "").startswith("rediss://"):
            raise ValueError("caFile needs a rediss:// url")
        if self.username is not None and self.password_file is None:
            raise ValueError("username needs passwordFile: an ACL user logs in with both")
        return self


def _absolute_dir(text: str) -> str:
    # Each program named from it is checked at start (the plugins where the provider file
    # names them, the helpers where the dockerconfigjson does).
    if not os.path.isabs(text):
        raise ValueError(f"{text!r} is not an absolute path")
    return text


def _existing(text: str) -> str:
    if not os.path.exists(text):
        raise ValueError(f"{text!r} does not exist")
    return text


def _env_name(text: str) -> str:
    if not _ENV_NAME.fullmatch(text):
        raise ValueError(f"{text!r} is not an environment variable name")
    return text


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CredentialPluginsConfig(_Section):
    provider_config: Annotated[str, Field(min_length=1), AfterValidator(_existing)] | None
    bin_dir: Annotated[str, Field(min_length=1), AfterValidator(_absolute_dir)] | None
    inherit_env: list[Annotated[str, AfterValidator(_env_name)]]
    timeout_seconds: PositiveFloat
    helper_cache_seconds: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _plugins_have_a_directory(self) -> CredentialPluginsConfig:
        if self.provider_config is not None and self.bin_dir is None:
            raise ValueError("providerConfig needs binDir, the directory of the plugins")
        return self


class ToolchainImageConfig(_Section):
    image: ReferenceText
    rule: RuleId = rules.TOOLCHAIN_BASE
    name: NonEmpty | None = None
    ecosystem: NonEmpty = "generic"


class RegistryConfig(_Section):
    platforms: Annotated[list[PlatformText], Field(min_length=1)]  # ["auto"]: see below
    insecure: list[NonEmpty]
    allow_private: list[NonEmpty]
    allow: list[NonEmpty]
    deny: list[NonEmpty]
    ca_bundle: NonEmpty | None
    mirrors: dict[str, list[NonEmpty]]
    token_realms: dict[HostText, list[HostText]]
    docker_config: NonEmpty | None
    pull_secrets: bool
    credential_plugins: CredentialPluginsConfig
    limits: LimitsConfig
    cache: CacheConfig
    shared_cache: SharedCacheConfig
    known_toolchain_images: list[ToolchainImageConfig] | None

    @field_validator("platforms", mode="wrap")
    @classmethod
    def _auto_or_list(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        # ``auto``: the platforms of the cluster's nodes, narrowed by each pod's placement;
        # kept in the document as ``["auto"]`` so that the field stays a list.
        if value == "auto":
            return ["auto"]
        if isinstance(value, str):
            raise ValueError(f"expected a list of platforms (os/arch) or auto, not {value!r}")
        return handler(value)

    @field_validator("known_toolchain_images", mode="before")
    @classmethod
    def _plain_references(cls, value: object) -> object:
        # An entry may be just the reference: toolchain-base, named after the repository.
        if isinstance(value, list):
            return [{"image": v} if isinstance(v, str) else v for v in value]
        return value


class ExemptionConfig(_Section):
    reason: NonEmpty
    namespaces: list[NonEmpty] = []
    images: list[NonEmpty] = []
    labels: dict[str, str] = {}
    expires: date | None = None

    @field_validator("reason")
    @classmethod
    def _reason_says_something(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("the reason must say why the exemption exists")
        return reason.strip()

    @model_validator(mode="after")
    def _selects_something(self) -> ExemptionConfig:
        if not (self.namespaces or self.images or self.labels):
            raise ValueError("an exemption must name namespaces, images or labels")
        return self


class ThresholdsConfig(_Section):
    layer_megabytes: PositiveFloat
    image_megabytes: PositiveFloat


class PolicyConfig(_Section):
    mode: Mode
    namespace_modes: dict[str, Mode]
    on_registry_error: Literal["allow", "warn", "deny"]
    rules: dict[RuleId, RuleAction]
    thresholds: ThresholdsConfig
    exemptions: list[ExemptionConfig]


class WebhookConfig(_Section):
    timeout_seconds: Annotated[int, Field(ge=1, le=30)]  # the API server's own bounds
    deadline_seconds: PositiveFloat | None
    excluded_namespaces: list[NonEmpty]
    namespace: NonEmpty

    @model_validator(mode="after")
    def _deadline_within_timeout(self) -> WebhookConfig:
        if self.deadline_seconds is not None and self.deadline_seconds >= self.timeout_seconds:
            raise ValueError("deadlineSeconds must be less than timeoutSeconds")
        return self


class OperatorConfig(_Section):
    interval_seconds: PositiveFloat
    namespaces: list[NonEmpty]
    excluded_namespaces: list[NonEmpty]
    workers: Positive


class Config(_Section):
    """The whole validated configuration."""

    registry: RegistryConfig
    policy: PolicyConfig
    webhook: WebhookConfig
    operator: OperatorConfig


# --- loading ---------------------------------------------------------------------------------


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, Mapping) and override is None:
        return base  # ``policy:`` with nothing under it is an empty section, not a null one
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return override


def _explain(exc: ValidationError, source: str, lines: Mapping[KeyPath, int]) -> ConfigError:
    problems = []
    for error in exc.errors(include_url=False):
        loc: KeyPath = tuple(p for p in error["loc"] if p != "[key]")
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        problems.append(f"{located(source, loc, lines)}: {message}")
    return ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(problems)))


def validate(text: str | None, source: str) -> dict[str, Any]:
    """The complete document of configuration text laid over the defaults (None: the
    defaults alone), validated; :class:`ConfigError` naming file, line and key otherwise."""
    default_data, default_lines = load_yaml(default_text(), DEFAULT_SOURCE)
    data, lines = default_data, default_lines
    if text is not None:
        user, lines = load_yaml(text, source)
        if user is not None and not isinstance(user, Mapping):
            raise ConfigError(f"{source}:1: the configuration must be a mapping of sections")
        data = _merge(default_data, user or {})
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, source, lines) from exc
    return config.model_dump(by_alias=True)
