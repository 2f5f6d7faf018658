"""``registry.credentialPlugins`` and the kubelet CredentialProviderConfig it names: read as
the kubelet reads it, and refused at start with the file, the line and the key."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from slimgate.config import parse_settings
from slimgate.errors import ConfigError
from tests.support.credential_programs import PROVIDER_API, provider_config, write_program

ECR_PATTERN = "*.dkr.ecr.*.amazonaws.com"


def _settings(tmp_path: Path, config_text: str, *, bin_dir: str | None = None) -> object:
    config = tmp_path / "providers.yaml"
    config.write_text(config_text)
    directory = bin_dir if bin_dir is not None else str(tmp_path / "bin")
    text = (
        "registry:\n"
        "  credentialPlugins:\n"
        f"    providerConfig: {json.dumps(str(config))}\n"
        f"    binDir: {json.dumps(directory)}\n"
        "    inheritEnv: [AWS_ROLE_ARN]\n"
    )
    return parse_settings(text, "slimgate.yaml")


def test_a_kubelet_file_becomes_the_plugins_to_run(tmp_path: Path) -> None:
    plugin = write_program(tmp_path / "bin", "ecr-credential-provider", "print('{}')\n")
    settings = _settings(
        tmp_path,
        provider_config(
            [
                {
                    "name": "ecr-credential-provider",
                    "matchImages": [ECR_PATTERN],
                    "defaultCacheDuration": "12h",
                    "args": ["get-credentials"],
                    "env": [{"name": "AWS_REGION", "value": "eu-west-1"}],
                }
            ]
        ),
    )
    programs = settings.registry.programs  # type: ignore[attr-defined]
    (spec,) = programs.providers
    assert spec.path == str(plugin)
    assert spec.match_images == (ECR_PATTERN,)
    assert spec.default_cache_seconds == 43200.0
    assert spec.args == ("get-credentials",)
    assert spec.env == (("AWS_REGION", "eu-west-1"),)
    assert spec.api_version == PROVIDER_API
    assert programs.inherit_env == ("AWS_ROLE_ARN",)


def test_a_directory_of_files_is_read_in_name_order(tmp_path: Path) -> None:
    for name in ("b", "a"):
        write_program(tmp_path / "bin", name, "")
    directory = tmp_path / "conf.d"
    directory.mkdir()
    (directory / "20-b.yaml").write_text(
        provider_config([{"name": "b", "matchImages": ["b.example.com"]}])
    )
    (directory / "10-a.json").write_text(
        provider_config([{"name": "a", "matchImages": ["a.example.com"]}])
    )
    (directory / "README").write_text("not read")
    text = (
        "registry:\n  credentialPlugins:\n"
        f"    providerConfig: {json.dumps(str(directory))}\n"
        f"    binDir: {json.dumps(str(tmp_path / 'bin'))}\n"
    )
    programs = parse_settings(text, "slimgate.yaml").registry.programs
    assert [p.name for p in programs.providers] == ["a", "b"]


KUBELET_FILE = """\
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  - name: ecr-credential-provider",
            "  - name: missing-plugin",
            r"providers\.yaml:4: providers\[0\]\.name: no executable file .*/missing-plugin",
        ),
        (
            "  - name: ecr-credential-provider",
            "  - name: ../bin/sh",
            r"providers\.yaml:4: providers\[0\]\.name: must be a file name",
        ),
        (
            '    defaultCacheDuration: "12h"',
            '    defaultCacheDuration: "12 hours"',
            r"providers\.yaml:7: providers\[0\]\.defaultCacheDuration: .* not a duration",
        ),
        (
            '    defaultCacheDuration: "12h"\n',
            "",
            r"providers\.yaml:4: providers\[0\]\.defaultCacheDuration: required key is missing",
        ),
        (
            '      - "*.dkr.ecr.*.amazonaws.com"',
            '      - "registry.io:*"',
            r"providers\.yaml:6: providers\[0\]\.matchImages\[0\]: .*invalid port",
        ),
        (
            "kind: CredentialProviderConfig",
            "kind: KubeletConfiguration",
            r"providers\.yaml:2: kind: must be CredentialProviderConfig",
        ),
        (
            "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
            "    apiVersion: credentialprovider.kubelet.k8s.io/v9",
            r"providers\.yaml:8: providers\[0\]\.apiVersion: must be one of",
        ),
        (
            "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
            "    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    path: /usr/bin/x",
            r"providers\.yaml:9: providers\[0\]\.path: unknown key",
        ),
    ],
)
def test_a_bad_provider_file_is_refused_with_file_line_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    write_program(tmp_path / "bin", "ecr-credential-provider", "")
    assert old in KUBELET_FILE
    with pytest.raises(ConfigError, match=expected):
        _settings(tmp_path, KUBELET_FILE.replace(old, new))


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    write_program(tmp_path / "bin", "p", "")
    text = provider_config([{"name": "p", "matchImages": ["a.io"]}] * 2)
    with pytest.raises(ConfigError, match=r"providers\[1\]\.name: duplicate provider name 'p'"):
        _settings(tmp_path, text)


def test_a_relative_bin_dir_is_refused_with_the_line_of_the_key(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"slimgate\.yaml:4: registry\.credentialPlugins\.binDir: 'bin' is not an absolute",
    ):
        _settings(tmp_path, KUBELET_FILE, bin_dir="bin")


def test_a_missing_provider_file_is_refused_with_the_line_of_the_key(tmp_path: Path) -> None:
    text = (
        "registry:\n  credentialPlugins:\n"
        f"    providerConfig: {json.dumps(str(tmp_path / 'nowhere.yaml'))}\n"
        f"    binDir: {json.dumps(str(tmp_path))}\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"slimgate\.yaml:3: registry\.credentialPlugins\.providerConfig: .*"
        r"does not exist",
    ):
        parse_settings(text, "slimgate.yaml")


def test_a_service_account_token_provider_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_program(tmp_path / "bin", "ecr-credential-provider", "")
    text = KUBELET_FILE + (
        "    tokenAttributes:\n"
        "      serviceAccountTokenAudience: sts.amazonaws.com\n"
        "      cacheType: ServiceAccount\n"
        "      requireServiceAccount: true\n"
    )
    with caplog.at_level(logging.WARNING, logger="slimgate.config"):
        settings = _settings(tmp_path, text)
    assert settings.registry.programs.providers == ()  # type: ignore[attr-defined]
    assert "tokenAttributes" in caplog.text
