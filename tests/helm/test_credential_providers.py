"""The chart's credential-provider values: the kubelet file beside slimgate's configuration,
and the settings that point slimgate at it, read back by slimgate itself."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from slimgate.config import parse_settings
from tests.support.aws import ecr_providers
from tests.support.chart import Helm
from tests.support.credential_programs import write_program

NODE_FILE = ecr_providers()


def test_the_node_file_is_written_beside_the_configuration_that_names_it(
    helm: Helm, tmp_path: Path
) -> None:
    rendering = helm.template(values={"credentialProviders.config": NODE_FILE})
    data = rendering.one("ConfigMap", "slimgate-config")["data"]
    assert yaml.safe_load(data["credential-providers.yaml"]) == NODE_FILE
    config = yaml.safe_load(data["config.yaml"])
    plugins = config["registry"]["credentialPlugins"]
    # the ConfigMap is mounted at /etc/slimgate, so its keys are files there
    assert plugins["providerConfig"] == "/etc/slimgate/credential-providers.yaml"
    assert plugins["binDir"] == "/usr/local/lib/slimgate/credential-providers"
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in plugins["inheritEnv"]
    assert "AZURE_FEDERATED_TOKEN_FILE" in plugins["inheritEnv"]

    # slimgate reads what the chart rendered: the same file, with the binary where the image
    # puts it (here a directory of the test's own)
    (tmp_path / "credential-providers.yaml").write_text(data["credential-providers.yaml"])
    write_program(tmp_path / "bin", "ecr-credential-provider", "")
    plugins["providerConfig"] = str(tmp_path / "credential-providers.yaml")
    plugins["binDir"] = str(tmp_path / "bin")
    settings = parse_settings(json.dumps(config), "config.yaml")
    (spec,) = settings.registry.programs.providers
    assert spec.name == "ecr-credential-provider"
    assert spec.default_cache_seconds == 12 * 3600


def test_without_a_node_file_no_plugin_is_configured(helm: Helm) -> None:
    data = helm.template().one("ConfigMap", "slimgate-config")["data"]
    assert "credential-providers.yaml" not in data
    plugins = yaml.safe_load(data["config.yaml"])["registry"]["credentialPlugins"]
    assert "providerConfig" not in plugins


def test_a_relative_bin_dir_is_refused_by_the_schema(helm: Helm) -> None:
    error = helm.template_error(values={"credentialProviders.binDir": "plugins"})
    assert "binDir" in error
