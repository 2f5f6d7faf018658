"""The configuration file: defaults, merging, and errors that name key path and line."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import date
from pathlib import Path

import pytest

from slimgate.analysis.lineage import DEFAULT_TOOLCHAIN_IMAGES
from slimgate.config import Settings, WebhookSettings, load_settings, parse_settings
from slimgate.errors import ConfigError
from slimgate.model import Platform
from slimgate.policy.decision import Exemption, Mode, RuleAction, Verdict


def parse(text: str) -> Settings:
    return parse_settings(textwrap.dedent(text), "slimgate.yaml")


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return str(caught.value)


def test_defaults_load() -> None:
    config = load_settings(None)
    policy = config.policy
    assert policy.mode is Mode.ENFORCE
    assert policy.on_registry_error is Verdict.WARN
    assert policy.exemptions == ()
    assert policy.thresholds.layer_bytes == 200_000_000
    assert policy.thresholds.image_bytes == 1_000_000_000
    assert config.registry.platforms == (Platform("linux", "amd64"),)
    assert config.webhook.timeout_seconds == 5
    assert config.webhook.deadline == pytest.approx(4.0)
    assert config.webhook.excluded_namespaces == frozenset({"kube-system"})
    assert config.registry.toolchain_images == DEFAULT_TOOLCHAIN_IMAGES


def test_default_policy_denies_clear_toolchains_and_warns_on_the_rest() -> None:
    policy = load_settings(None).policy
    for rule in ("toolchain-base", "toolchain-installed", "build-in-final-image", "sdk-copied"):
        assert policy.action_for(rule) is RuleAction.DENY, rule
    for rule in (
        "full-language-base",
        "jdk-runtime",
        "php-extension-toolchain",
        "dev-dependencies",
        "oversize-layer",
        "oversize-image",
    ):
        assert policy.action_for(rule) is RuleAction.WARN, rule


def test_empty_file_is_the_defaults() -> None:
    assert parse("") == load_settings(None)


def test_empty_section_is_the_defaults() -> None:
    assert parse("policy:\n") == load_settings(None)
    config = parse(
        """
        registry:
          limits:
        policy:
          rules:
          mode: warn
        """
    )
    assert config.registry.options.limits == load_settings(None).registry.options.limits
    assert config.policy.action_for("toolchain-base") is RuleAction.DENY
    assert config.policy.mode is Mode.WARN


def test_file_is_laid_over_the_defaults() -> None:
    config = parse(
        """
        policy:
          mode: warn
          rules:
            dev-dependencies: off
            oversize-image: deny
          namespaceModes: {legacy: audit}
        """
    )
    policy = config.policy
    assert policy.mode is Mode.WARN
    assert policy.namespace_modes == {"legacy": Mode.AUDIT}
    assert policy.action_for("dev-dependencies") is RuleAction.OFF  # 'off' is not False
    assert policy.action_for("oversize-image") is RuleAction.DENY
    assert policy.action_for("toolchain-base") is RuleAction.DENY  # kept from the defaults
    assert config.registry.platforms == (Platform("linux", "amd64"),)


def test_full_example_maps_onto_the_engine_values(tmp_path: Path) -> None:
    path = tmp_path / "slimgate.yaml"
    path.write_text(
        textwrap.dedent(
            """
            registry:
              platforms: [linux/amd64, linux/arm64/v8]
              insecure: ["localhost:5000"]
              allowPrivate: [registry.internal]
              mirrors: {docker.io: ["mirror.internal:5000"]}
              tokenRealms: {registry.internal: ["Auth.Internal", "auth.internal:8443"]}
              limits: {manifestBytes: 1000, configBytes: 2000, indexEntries: 5,
                       redirects: 0, lookupSeconds: 2.5, lookupsPerRegistry: 3,
                       breakerTimeouts: 5, breakerSeconds: 12.5}
              knownToolchainImages:
                - registry.internal/build/golang:1.23
                - {image: "registry.internal/build/jdk:21", rule: jdk-runtime,
                   name: "internal JDK", ecosystem: java}
            policy:
              onRegistryError: deny
              thresholds: {layerMegabytes: 50, imageMegabytes: 300.5}
              exemptions:
                - images: ["registry.internal/legacy/*"]
                  namespaces: [legacy]
                  labels: {team: data}
                  reason: "migrating to multi-stage, ticket OPS-12"
                  expires: 2027-01-31
            webhook:
              timeoutSeconds: 10
              deadlineSeconds: 6
            """
        )
    )
    config = load_settings(path)
    assert config.registry.platforms == (
        Platform("linux", "amd64"),
        Platform("linux", "arm64", "v8"),
    )
    options = config.registry.options.with_insecure(("127.0.0.1:5001",))
    assert options.insecure == frozenset({"localhost:5000", "127.0.0.1:5001"})
    assert options.allow_private == frozenset({"registry.internal"})
    assert options.mirrors == {"docker.io": ("mirror.internal:5000",)}
    assert options.limits.manifest_bytes == 1000
    assert options.limits.config_bytes == 2000
    assert options.limits.index_entries == 5
    assert options.limits.redirects == 0
    assert options.limits.lookup_seconds == 2.5
    assert options.limits.breaker_timeouts == 5
    assert options.limits.breaker_seconds == 12.5
    assert options.token_realms == {
        "registry.internal": frozenset({"auth.internal", "auth.internal:8443"})
    }
    assert config.webhook.lookups_per_registry == 3
    policy = config.policy
    assert policy.on_registry_error is Verdict.DENY
    assert policy.thresholds.layer_bytes == 50_000_000
    assert policy.thresholds.image_bytes == 300_500_000
    assert policy.exemptions == (
        Exemption(
            reason="migrating to multi-stage, ticket OPS-12",
            namespaces=("legacy",),
            images=("registry.internal/legacy/*",),
            labels=(("team", "data"),),
            expires=date(2027, 1, 31),
        ),
    )
    assert config.webhook.deadline == 6
    golang, jdk = config.registry.toolchain_images
    assert (golang.reference, golang.rule, golang.name) == (
        "registry.internal/build/golang:1.23",
        "toolchain-base",
        "golang",
    )
    assert (jdk.rule, jdk.name, jdk.ecosystem) == ("jdk-runtime", "internal JDK", "java")


@pytest.mark.parametrize(
    "entry", ["https://auth.internal", "auth.internal/token", "user@auth.internal", "a b", ""]
)
def test_token_realms_are_hosts_and_nothing_more(entry: str) -> None:
    message = error_of(f'registry:\n  tokenRealms:\n    registry.internal: ["{entry}"]\n')
    assert "slimgate.yaml:3: registry.tokenRealms.registry.internal[0]:" in message
    assert "is not a host or host:port" in message


@pytest.mark.parametrize("key", ["lookupsPerRegistry", "breakerTimeouts"])
def test_per_registry_limits_are_positive(key: str) -> None:
    message = error_of(f"registry:\n  limits:\n    {key}: 0\n")
    assert f"slimgate.yaml:3: registry.limits.{key}:" in message


def test_deadline_defaults_to_four_fifths_of_the_timeout() -> None:
    assert parse("webhook: {timeoutSeconds: 10}").webhook.deadline == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("hook", "deadline"),
    [
        (WebhookSettings(timeout_seconds=10), 8.0),
        (WebhookSettings(timeout_seconds=10, deadline_seconds=3), 3.0),
        (parse("webhook: {timeoutSeconds: 10}").webhook, 8.0),
        (parse("webhook: {timeoutSeconds: 10, deadlineSeconds: 3}").webhook, 3.0),
    ],
)
def test_the_deadline_is_computed_once(hook: WebhookSettings, deadline: float) -> None:
    """Built in a test or read from a file, the deadline is one value set at construction."""
    assert hook.deadline == pytest.approx(deadline)
    assert "deadline" in {f.name for f in dataclasses.fields(hook)}  # a field, not a property


def test_empty_toolchain_list_disables_lineage() -> None:
    assert parse("registry: {knownToolchainImages: []}").registry.toolchain_images == ()


def test_unknown_key_names_path_and_line() -> None:
    message = error_of(
        """
        policy:
          mode: enforce
          rules:
            toolchain-base: deny
          onRegistyError: deny
        """
    )
    assert "slimgate.yaml:6: policy.onRegistyError: unknown key" in message


def test_unknown_top_level_section() -> None:
    assert "slimgate.yaml:2: webhooks: unknown key" in error_of("\nwebhooks: {}\n")


def test_wrong_type_names_path_and_line() -> None:
    message = error_of(
        """
        registry:
          limits:
            manifestBytes: lots
        """
    )
    assert "slimgate.yaml:4: registry.limits.manifestBytes:" in message
    assert "integer" in message


def test_list_where_mapping_expected() -> None:
    message = error_of("policy:\n  thresholds: [1, 2]\n")
    assert "slimgate.yaml:2: policy.thresholds:" in message


def test_bad_enum_value_names_path_and_line() -> None:
    message = error_of(
        """
        policy:
          namespaceModes:
            legacy: lenient
        """
    )
    assert "slimgate.yaml:4: policy.namespaceModes.legacy:" in message
    assert "'enforce', 'warn' or 'audit'" in message


def test_bad_rule_action() -> None:
    message = error_of("policy:\n  rules:\n    jdk-runtime: block\n")
    assert "slimgate.yaml:3: policy.rules.jdk-runtime:" in message
    assert "'deny', 'warn' or 'off'" in message


def test_bad_on_registry_error() -> None:
    message = error_of("policy:\n  onRegistryError: retry\n")
    assert "slimgate.yaml:2: policy.onRegistryError:" in message


def test_unknown_rule_id() -> None:
    message = error_of("policy:\n  rules:\n    toolchian-base: deny\n")
    assert "slimgate.yaml:3: policy.rules.toolchian-base: unknown rule 'toolchian-base'" in message


@pytest.mark.parametrize("rule", ["registry-error", "too-complex"])
def test_the_rules_of_images_not_evaluated_are_not_rule_settings(rule: str) -> None:
    message = error_of(f"policy:\n  rules:\n    {rule}: deny\n")
    assert f"unknown rule '{rule}' (set policy.onRegistryError instead)" in message


def test_bad_date_names_path_and_line() -> None:
    message = error_of(
        """
        policy:
          exemptions:
            - namespaces: [legacy]
              reason: migrating
              expires: 2027-02-30
        """
    )
    assert "slimgate.yaml:6: policy.exemptions[0].expires:" in message
    assert "date" in message


def test_exemption_without_reason_is_rejected() -> None:
    message = error_of(
        """
        policy:
          exemptions:
            - namespaces: [a]
              reason: first
            - images: ["golang:*"]
              expires: 2027-01-01
        """
    )
    assert "slimgate.yaml:6: policy.exemptions[1].reason: required key is missing" in message


def test_exemption_with_blank_reason_is_rejected() -> None:
    message = error_of('policy:\n  exemptions:\n    - {namespaces: [a], reason: "  "}\n')
    assert "slimgate.yaml:3: policy.exemptions[0].reason:" in message


def test_exemption_that_selects_nothing_is_rejected() -> None:
    message = error_of("policy:\n  exemptions:\n    - reason: everything\n")
    assert "slimgate.yaml:3: policy.exemptions[0]: an exemption must name" in message


def test_invalid_yaml_gives_the_line() -> None:
    message = error_of(
        """
        policy:
          mode: enforce
          rules: {toolchain-base: deny
        webhook:
          timeoutSeconds: 5
        """
    )
    assert message.startswith("slimgate.yaml:5: invalid YAML")


def test_bad_indentation_gives_the_line() -> None:
    message = error_of("policy:\n  mode: warn\n   rules: {}\n")
    assert message.startswith("slimgate.yaml:3: invalid YAML")


def test_duplicate_key_is_rejected() -> None:
    message = error_of("policy:\n  mode: warn\n  mode: audit\n")
    assert message == "slimgate.yaml:3: policy.mode: duplicate key"


def test_top_level_must_be_a_mapping() -> None:
    assert error_of("- a\n- b\n").startswith("slimgate.yaml:1:")


def test_bad_platform() -> None:
    message = error_of("registry:\n  platforms: [linux/amd64, amd64]\n")
    assert "slimgate.yaml:2: registry.platforms[1]: invalid platform 'amd64'" in message


def test_bad_toolchain_reference() -> None:
    message = error_of("registry:\n  knownToolchainImages:\n    - Golang:1\n")
    assert "slimgate.yaml:3: registry.knownToolchainImages[0].image:" in message


def test_deadline_must_be_below_the_timeout() -> None:
    message = error_of("webhook:\n  timeoutSeconds: 5\n  deadlineSeconds: 5\n")
    assert "slimgate.yaml:1: webhook: deadlineSeconds must be less than timeoutSeconds" in message


def test_timeout_within_the_api_server_bounds() -> None:
    assert "webhook.timeoutSeconds" in error_of("webhook:\n  timeoutSeconds: 31\n")


def test_several_errors_are_all_reported() -> None:
    message = error_of("policy:\n  mode: nope\nwebhook:\n  port: 1\n")
    assert "slimgate.yaml:2: policy.mode:" in message
    assert "slimgate.yaml:4: webhook.port: unknown key" in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_settings(tmp_path / "missing.yaml")


def test_platforms_auto_takes_the_nodes_platforms_with_linux_amd64_as_fallback() -> None:
    config = parse("registry:\n  platforms: auto\n")
    assert config.registry.node_platforms
    assert config.registry.platforms == (Platform("linux", "amd64"),)
    assert config.webhook.node_platforms
    listed = parse("registry:\n  platforms: [linux/arm64]\n")
    assert not listed.registry.node_platforms
    assert not load_settings(None).registry.node_platforms


def test_platforms_is_a_list_or_auto() -> None:
    message = error_of("registry:\n  platforms: automatic\n")
    assert message == (
        "invalid configuration:\n  slimgate.yaml:2: registry.platforms: "
        "expected a list of platforms (os/arch) or auto, not 'automatic'"
    )
