"""``registry.sharedCache``: off by default, complete when on, no secret in the url."""

from __future__ import annotations

import textwrap

import pytest

from slimgate.config import Settings, load_settings, parse_settings
from slimgate.errors import ConfigError
from slimgate.registry.options import SharedCacheOptions


def settings(body: str) -> Settings:
    return parse_settings(textwrap.dedent(body), "c.yaml")


def test_off_by_default() -> None:
    assert load_settings(None).registry.options.shared is None
    assert parse_settings(None).registry.options.shared is None
    assert load_settings(None).registry.options.cache.stale_grace_seconds == 300


def test_a_url_with_a_secret_file_turns_it_on() -> None:
    parsed = parse_settings(
        textwrap.dedent(
            """
            registry:
              cache: {staleGraceSeconds: 30}
              sharedCache:
                url: rediss://valkey.slimgate.svc:6379/2
                passwordFile: /var/run/slimgate/store/password
                caFile: /var/run/slimgate/store/ca.crt
                secretFile: /var/run/slimgate/store/secret
                keyPrefix: "prod:"
                timeoutMilliseconds: 20
            """
        ),
        "c.yaml",
    )
    assert parsed.registry.options.cache.stale_grace_seconds == 30
    assert parsed.registry.options.shared == SharedCacheOptions(
        url="rediss://valkey.slimgate.svc:6379/2",
        secret_file="/var/run/slimgate/store/secret",
        password_file="/var/run/slimgate/store/password",
        ca_file="/var/run/slimgate/store/ca.crt",
        key_prefix="prod:",
        timeout_seconds=0.02,
    )


def test_an_acl_user_logs_in_with_its_name_and_the_password_file() -> None:
    parsed = settings(
        """
        registry:
          sharedCache:
            url: redis://valkey.slimgate.svc:6379/0
            username: slimgate
            passwordFile: /var/run/slimgate/store/password
            secretFile: /var/run/slimgate/store/secret
        """
    )
    shared = parsed.registry.options.shared
    assert shared is not None
    assert (shared.username, shared.password_file) == (
        "slimgate",
        "/var/run/slimgate/store/password",
    )


def test_the_password_alone_needs_no_username() -> None:
    parsed = settings(
        """
        registry:
          sharedCache:
            url: redis://valkey.slimgate.svc:6379/0
            passwordFile: /var/run/slimgate/store/password
            secretFile: /var/run/slimgate/store/secret
        """
    )
    shared = parsed.registry.options.shared
    assert shared is not None
    assert (shared.username, shared.password_file) == (None, "/var/run/slimgate/store/password")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{url: 'http://store:6379'}", "must start with redis:// or rediss://"),
        ("{url: 'redis://:hunter2@store:6379', secretFile: /s}", "passwordFile, not in the url"),
        ("{url: 'redis://gate:hunter2@store:6379', secretFile: /s}", "the user in username"),
        ("{url: 'redis://store:6379/0?password=hunter2', secretFile: /s}", "takes no query"),
        (
            "{url: 'redis://store:6379', secretFile: /s, username: gate}",
            "username needs passwordFile",
        ),
        ("{url: 'redis://store:6379'}", "secretFile is required"),
        ("{url: 'redis://store:6379', secretFile: /s, caFile: /ca}", "caFile needs a rediss://"),
        ("{timeoutMilliseconds: 0}", "greater than or equal to 1"),
    ],
)
def test_mistakes_name_the_key_and_line(section: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"c\.yaml:3: registry\.sharedCache") as caught:
        settings(f"\nregistry:\n  sharedCache: {section}\n")
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)
