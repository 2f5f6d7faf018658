"""The chart's ``sharedCache`` values: off by default; on, every pod mounts the store's
Secret (and CA) and the configuration names the files."""

from __future__ import annotations

from slimgate.config import parse_settings
from slimgate.registry.options import SharedCacheOptions
from tests.support.chart import Helm, pod_spec

ON = {
    "sharedCache.url": "rediss://valkey.store.svc:6380/0",
    "sharedCache.existingSecret": "slimgate-store",
    "sharedCache.caSecret": "store-ca",
}


def test_off_by_default(helm: Helm) -> None:
    rendering = helm.template()
    assert "sharedCache" not in rendering.config()["registry"]
    for workload in rendering.all("Deployment"):
        assert "shared-cache" not in {v["name"] for v in pod_spec(workload)["volumes"]}


def test_every_pod_mounts_the_store_secret_and_the_configuration_names_it(helm: Helm) -> None:
    rendering = helm.template(values=ON)
    configmap = rendering.one("ConfigMap", f"{rendering.fullname}-config")
    settings = parse_settings(configmap["data"]["config.yaml"], "configmap")
    assert settings.registry.options.shared == SharedCacheOptions(
        url="rediss://valkey.store.svc:6380/0",
        secret_file="/etc/slimgate-shared-cache/secret",
        password_file="/etc/slimgate-shared-cache/password",
        ca_file="/etc/slimgate-shared-cache-ca/ca.crt",
    )
    deployments = rendering.all("Deployment")
    assert len(deployments) == 2  # the webhook and the operator share the store
    for workload in deployments:
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        assert volumes["shared-cache"]["secret"]["secretName"] == "slimgate-store"
        assert volumes["shared-cache-ca"]["secret"]["secretName"] == "store-ca"
        (container,) = pod_spec(workload)["containers"]
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["shared-cache"]["mountPath"] == "/etc/slimgate-shared-cache"
        assert mounts["shared-cache"]["readOnly"] is True


def test_an_acl_username_reaches_the_configuration(helm: Helm) -> None:
    rendering = helm.template(values={**ON, "sharedCache.username": "slimgate"})
    configmap = rendering.one("ConfigMap", f"{rendering.fullname}-config")
    shared = parse_settings(configmap["data"]["config.yaml"], "configmap").registry.options.shared
    assert shared is not None
    assert shared.username == "slimgate"
    assert shared.password_file == "/etc/slimgate-shared-cache/password"


def test_a_store_without_its_secret_or_with_a_password_in_the_url_is_refused(
    helm: Helm,
) -> None:
    missing = helm.template_error(values={"sharedCache.url": "redis://store:6379"})
    assert "sharedCache.existingSecret is required" in missing
    inline = helm.template_error(
        values={"sharedCache.url": "redis://:pw@store:6379", "sharedCache.existingSecret": "s"}
    )
    assert "sharedCache/url" in inline
    query = helm.template_error(
        values={
            "sharedCache.url": "redis://store:6379?password=pw",
            "sharedCache.existingSecret": "s",
        }
    )
    assert "sharedCache/url" in query
    plain_ca = helm.template_error(
        values={
            "sharedCache.url": "redis://store:6379",
            "sharedCache.existingSecret": "s",
            "sharedCache.caSecret": "ca",
        }
    )
    assert "needs a rediss:// url" in plain_ca
