"""The ValidatingWebhookConfiguration and the configuration the webhook reads agree.

Spec: https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
"""

from __future__ import annotations

import pytest

from slimgate.config import parse_settings
from tests.support.chart import Helm, Manifest, Rendering


def webhook_of(rendering: Rendering) -> Manifest:
    webhooks = rendering.one("ValidatingWebhookConfiguration")["webhooks"]
    assert len(webhooks) == 1
    entry: Manifest = webhooks[0]
    return entry


def excluded_by_selector(webhook: Manifest) -> list[str]:
    expressions = webhook["namespaceSelector"]["matchExpressions"]
    by_name = [e for e in expressions if e["key"] == "kubernetes.io/metadata.name"]
    assert len(by_name) == 1
    assert by_name[0]["operator"] == "NotIn"
    values: list[str] = by_name[0]["values"]
    return values


def test_defaults_fail_open_with_a_five_second_timeout(helm: Helm) -> None:
    webhook = webhook_of(helm.template())
    assert webhook["failurePolicy"] == "Ignore"
    assert webhook["timeoutSeconds"] == 5
    assert webhook["sideEffects"] == "None"
    assert webhook["admissionReviewVersions"] == ["v1"]
    assert "matchConditions" not in webhook


def test_namespace_selector_excludes_kube_system_the_release_namespace_and_the_users(
    helm: Helm,
) -> None:
    rendering = helm.template(
        namespace="platform-gate", values={"webhook.excludedNamespaces": ["monitoring", "ci"]}
    )
    excluded = excluded_by_selector(webhook_of(rendering))
    assert sorted(excluded) == ["ci", "kube-system", "monitoring", "platform-gate"]
    # The webhook's own configuration names the same namespaces.
    config = rendering.config()
    assert sorted(config["webhook"]["excludedNamespaces"]) == sorted(excluded)
    assert config["webhook"]["namespace"] == "platform-gate"
    assert sorted(config["operator"]["excludedNamespaces"]) == sorted(excluded)


def test_extra_namespace_selector_terms_are_anded_with_the_exclusions(helm: Helm) -> None:
    term = {"key": "slimgate.io/ignore", "operator": "DoesNotExist"}
    rendering = helm.template(
        values={
            "webhook.namespaceSelector": {
                "matchLabels": {"team": "apps"},
                "matchExpressions": [term],
            }
        }
    )
    selector = webhook_of(rendering)["namespaceSelector"]
    assert selector["matchLabels"] == {"team": "apps"}
    assert term in selector["matchExpressions"]
    assert sorted(excluded_by_selector(webhook_of(rendering))) == ["kube-system", "slimgate"]


@pytest.mark.parametrize(
    ("timeout", "deadline"), [(5, 4.0), (10, 8.0), (7, 5.6), (1, 0.8), (30, 24.0)]
)
def test_webhook_deadline_follows_timeout_seconds(
    helm: Helm, timeout: int, deadline: float
) -> None:
    rendering = helm.template(
        values={"webhook.timeoutSeconds": timeout, "webhook.failurePolicy": "Fail"}
    )
    webhook = webhook_of(rendering)
    assert webhook["timeoutSeconds"] == timeout
    assert webhook["failurePolicy"] == "Fail"
    section = rendering.config()["webhook"]
    assert section["timeoutSeconds"] == timeout
    assert section["deadlineSeconds"] == pytest.approx(deadline)


def test_explicit_deadline_is_used_and_must_stay_below_the_timeout(helm: Helm) -> None:
    rendering = helm.template(values={"webhook.timeoutSeconds": 10, "webhook.deadlineSeconds": 6})
    assert rendering.config()["webhook"]["deadlineSeconds"] == 6.0

    error = helm.template_error(values={"webhook.timeoutSeconds": 5, "webhook.deadlineSeconds": 5})
    assert "webhook.deadlineSeconds (5) must be below webhook.timeoutSeconds (5)" in error


def test_rendered_configuration_is_valid_for_slimgate(helm: Helm) -> None:
    """The ConfigMap passes slimgate's own loader, with the values the chart derived."""
    rendering = helm.template(
        namespace="gate",
        values={
            "webhook.timeoutSeconds": 12,
            "config.policy": {
                "mode": "enforce",
                "namespaceModes": {"legacy": "warn"},
                "rules": {"jdk-runtime": "deny", "oversize-image": "off"},
                "exemptions": [
                    {"namespaces": ["ci"], "reason": "runners build code", "expires": "2027-01-31"}
                ],
            },
            "config.registry.pullSecrets": True,
            "config.operator": {"intervalSeconds": 600},
        },
    )
    configmap = rendering.one("ConfigMap", "slimgate-config")
    config = parse_settings(configmap["data"]["config.yaml"], "configmap")
    assert config.webhook.timeout_seconds == 12
    assert config.webhook.deadline == pytest.approx(9.6)
    assert config.webhook.namespace == "gate"
    assert config.policy.mode == "enforce"
    assert config.policy.namespace_modes == {"legacy": "warn"}
    assert config.registry.pull_secrets is True
    assert config.operator.interval_seconds == 600
    assert set(config.operator.excluded_namespaces) == {"kube-system", "gate"}


def test_rules_cover_pods_ephemeral_containers_and_workloads(helm: Helm) -> None:
    rules = webhook_of(helm.template())["rules"]
    covered = {
        (group, resource, operation)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for operation in rule["operations"]
    }
    assert ("", "pods", "CREATE") in covered
    assert ("", "pods/ephemeralcontainers", "UPDATE") in covered
    workloads = [
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("", "replicationcontrollers"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
    ]
    for group, resource in workloads:
        assert (group, resource, "CREATE") in covered
        assert (group, resource, "UPDATE") in covered
    assert all(rule["scope"] == "Namespaced" for rule in rules)


def test_workload_rules_can_be_turned_off(helm: Helm) -> None:
    rules = webhook_of(helm.template(values={"webhook.workloads": False}))["rules"]
    resources = {resource for rule in rules for resource in rule["resources"]}
    assert resources == {"pods", "pods/ephemeralcontainers"}


def test_service_reference_by_default(helm: Helm) -> None:
    rendering = helm.template(release="gate", namespace="tools")
    client = webhook_of(rendering)["clientConfig"]
    service = rendering.one("Service")
    assert "url" not in client
    assert client["service"] == {
        "name": service["metadata"]["name"],
        "namespace": "tools",
        "path": "/validate",
        "port": service["spec"]["ports"][0]["port"],
    }
    assert service["spec"]["ports"][0]["targetPort"] == "https"


def test_client_config_url_replaces_the_service_reference(helm: Helm) -> None:
    url = "https://127.0.0.1:18443/validate"
    client = webhook_of(helm.template(values={"webhook.clientConfig.url": url}))["clientConfig"]
    assert client["url"] == url
    assert "service" not in client
    assert client["caBundle"]


def test_match_conditions_are_rendered_when_given(helm: Helm) -> None:
    conditions = [
        {"name": "not-nodes", "expression": "!request.userInfo.username.startsWith('system:node:')"}
    ]
    webhook = webhook_of(helm.template(values={"webhook.matchConditions": conditions}))
    assert webhook["matchConditions"] == conditions
