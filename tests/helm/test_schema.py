"""values.schema.json refuses wrong values before anything reaches a cluster,
and helm's message names the value and what it should be."""

from __future__ import annotations

import pytest

from tests.support.chart import Helm

PREFIX = "values don't meet the specifications of the schema(s)"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"webhook.failurePolicy": "Deny"},
            "at '/webhook/failurePolicy': value must be one of 'Ignore', 'Fail'",
        ),
        ({"webhook.timeoutSeconds": 31}, "at '/webhook/timeoutSeconds': maximum: got 31, want 30"),
        ({"webhook.timeoutSeconds": 0}, "at '/webhook/timeoutSeconds': minimum: got 0, want 1"),
        (
            {"tls.mode": "vault"},
            "at '/tls/mode': value must be one of 'helm', 'certManager', 'secret'",
        ),
        (
            {"config.policy.mode": "block"},
            "at '/config/policy/mode': value must be one of 'enforce', 'warn', 'audit'",
        ),
        (
            {"config.policy.rules": {"toolchain-base": "error"}},
            "value must be one of 'deny', 'warn', 'off'",
        ),
        (
            {"config.policy.onRegistryError": "retry"},
            "at '/config/policy/onRegistryError': value must be one of 'allow', 'warn', 'deny'",
        ),
        ({"webhook.replicaCount": 0}, "at '/webhook/replicaCount': minimum: got 0, want 1"),
        ({"webhook.replicaCount": 1.5}, "at '/webhook/replicaCount': got number, want integer"),
        ({"webhook.replicaCount": "two"}, "at '/webhook/replicaCount': got string, want integer"),
        (
            {"webhook.clientConfig.url": "http://127.0.0.1/validate"},
            "at '/webhook/clientConfig/url'",
        ),
        ({"webhook.name": "slimgate"}, "at '/webhook/name'"),
        ({"webhok": {"replicaCount": 2}}, "additional properties 'webhok' not allowed"),
        ({"config.registry.pullSecret": True}, "additional properties 'pullSecret' not allowed"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_wrong_values_are_refused_with_a_readable_message(
    helm: Helm, values: dict[str, object], message: str
) -> None:
    error = helm.template_error(values=values)
    assert PREFIX in error
    assert message in error


def test_the_defaults_pass_the_schema(helm: Helm) -> None:
    helm.template()
