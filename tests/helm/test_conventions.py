"""What the established admission charts offer: host network, webhook configuration
metadata, a namespace opt-out label, Linux nodes, PDB and HPA settings, a PrometheusRule,
a Grafana dashboard, and matchConditions only where the API server knows them."""

from __future__ import annotations

import json
import re

from slimgate.operator.metrics import AuditMetrics
from slimgate.webhook.metrics import WebhookMetrics
from tests.support.chart import Helm, pod_spec

from .test_webhook_configuration import webhook_of
from .test_workloads import operator, webhook


def test_every_pod_runs_on_linux_nodes_unless_told_otherwise(helm: Helm) -> None:
    rendering = helm.template()
    for deployment in (webhook(rendering), operator(rendering)):
        assert pod_spec(deployment)["nodeSelector"] == {"kubernetes.io/os": "linux"}
    mixed = helm.template(values={"webhook.nodeSelector": {"pool": "system"}})
    assert pod_spec(webhook(mixed))["nodeSelector"] == {
        "kubernetes.io/os": "linux",
        "pool": "system",
    }
    dropped = helm.template(values={"webhook.nodeSelector": {"kubernetes.io/os": None}})
    assert "nodeSelector" not in pod_spec(webhook(dropped))


def test_host_network_brings_the_matching_dns_policy(helm: Helm) -> None:
    assert "hostNetwork" not in pod_spec(webhook(helm.template()))
    spec = pod_spec(webhook(helm.template(values={"webhook.hostNetwork": True})))
    assert spec["hostNetwork"] is True
    assert spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    chosen = helm.template(values={"webhook.hostNetwork": True, "webhook.dnsPolicy": "Default"})
    assert pod_spec(webhook(chosen))["dnsPolicy"] == "Default"


def test_webhook_configuration_takes_annotations_and_labels(helm: Helm) -> None:
    rendering = helm.template(
        values={
            "webhook.configuration.annotations": {"admissions.enforcer/disabled": "true"},
            "webhook.configuration.labels": {"argocd.argoproj.io/instance": "gate"},
        }
    )
    vwc = rendering.one("ValidatingWebhookConfiguration")
    assert vwc["metadata"]["annotations"] == {"admissions.enforcer/disabled": "true"}
    assert vwc["metadata"]["labels"]["argocd.argoproj.io/instance"] == "gate"
    assert vwc["metadata"]["labels"]["app.kubernetes.io/component"] == "webhook"
    cert_manager = helm.template(
        values={"tls.mode": "certManager", "webhook.configuration.annotations": {"a": "b"}}
    ).one("ValidatingWebhookConfiguration")
    assert set(cert_manager["metadata"]["annotations"]) == {"a", "cert-manager.io/inject-ca-from"}


def test_a_labelled_namespace_opts_out(helm: Helm) -> None:
    opt_out = {"key": "slimgate.io/ignore", "operator": "DoesNotExist"}
    assert opt_out in webhook_of(helm.template())["namespaceSelector"]["matchExpressions"]
    custom = webhook_of(helm.template(values={"webhook.optOutLabel": "example.com/no-gate"}))
    assert {"key": "example.com/no-gate", "operator": "DoesNotExist"} in custom[
        "namespaceSelector"
    ]["matchExpressions"]
    off = webhook_of(helm.template(values={"webhook.optOutLabel": ""}))
    assert len(off["namespaceSelector"]["matchExpressions"]) == 1  # only the exclusions


def test_match_conditions_only_where_the_api_server_supports_them(helm: Helm) -> None:
    conditions = [{"name": "not-nodes", "expression": "true"}]
    values = {"webhook.matchConditions": conditions}
    supported = helm.template(values=values, extra=("--kube-version", "1.28.0"))
    assert webhook_of(supported)["matchConditions"] == conditions
    older = helm.template(values=values, extra=("--kube-version", "1.27.3"))
    assert "matchConditions" not in webhook_of(older)


def test_budget_takes_max_unavailable_and_an_eviction_policy(helm: Helm) -> None:
    rendering = helm.template(
        values={
            "webhook.podDisruptionBudget.minAvailable": None,
            "webhook.podDisruptionBudget.maxUnavailable": 1,
            "webhook.podDisruptionBudget.unhealthyPodEvictionPolicy": "AlwaysAllow",
        }
    )
    spec = rendering.one("PodDisruptionBudget")["spec"]
    assert spec["maxUnavailable"] == 1
    assert "minAvailable" not in spec
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    error = helm.template_error(values={"webhook.podDisruptionBudget.maxUnavailable": 1})
    assert "not both" in error


def test_autoscaling_replaces_the_fixed_replica_count(helm: Helm) -> None:
    rendering = helm.template(
        values={"webhook.autoscaling.enabled": True, "webhook.autoscaling.maxReplicas": 4}
    )
    deployment = webhook(rendering)
    assert "replicas" not in deployment["spec"]
    hpa = rendering.one("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert rendering.one("PodDisruptionBudget")  # two pods at least: a budget
    assert helm.template().all("HorizontalPodAutoscaler") == []


def test_prometheus_rule_alerts_on_slimgates_own_metrics(helm: Helm) -> None:
    assert helm.template().all("PrometheusRule") == []
    rendering = helm.template(
        namespace="gate",
        values={"prometheusRule.enabled": True, "prometheusRule.labels": {"r": "1"}},
    )
    rule = rendering.one("PrometheusRule")
    assert rule["metadata"]["labels"]["r"] == "1"
    (group,) = rule["spec"]["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert {"SlimgateWebhookDown", "SlimgateAdmissionSlow", "SlimgateReportApiMissing"} <= set(
        alerts
    )
    for alert in alerts.values():
        assert alert["labels"]["severity"] == "warning"
        assert 'namespace="gate"' in alert["expr"]
        assert alert["expr"].count("(") == alert["expr"].count(")")
    assert "slimgate_audit_report_api_served" in alerts["SlimgateReportApiMissing"]["expr"]
    no_operator = helm.template(
        values={"prometheusRule.enabled": True, "operator.enabled": False}
    ).one("PrometheusRule")
    assert not [r for r in no_operator["spec"]["groups"][0]["rules"] if "audit" in r["expr"]]


def test_grafana_dashboard_is_a_sidecar_configmap_of_slimgates_metrics(helm: Helm) -> None:
    rendering = helm.template(values={"grafana.enabled": True})
    (configmap,) = [
        c for c in rendering.all("ConfigMap") if c["metadata"]["name"].endswith("-dashboard")
    ]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(configmap["data"]["slimgate.json"])
    assert dashboard["uid"] == "slimgate"
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert any("slimgate_admission_duration_seconds_bucket" in e for e in expressions)
    assert any("slimgate_audit_report_api_served" in e for e in expressions)


SLIMGATE_NAME = re.compile(r"\bslimgate_[a-z0-9_]+")


def exported_sample_names() -> set[str]:
    """Every series name the webhook and the operator can export, children or not."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
        "summary": ("", "_count", "_sum", "_created"),
    }
    names: set[str] = set()
    for registry in (WebhookMetrics().registry, AuditMetrics().registry):
        for family in registry.collect():
            names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


def test_alerts_and_dashboard_name_only_metrics_slimgate_exports(helm: Helm) -> None:
    """A renamed metric would leave an alert that never fires and an empty panel."""
    exported = exported_sample_names()
    assert "slimgate_admission_duration_seconds_bucket" in exported  # the reader is right
    rendering = helm.template(values={"prometheusRule.enabled": True, "grafana.enabled": True})
    rule = rendering.one("PrometheusRule")
    expressions = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    (configmap,) = [
        c for c in rendering.all("ConfigMap") if c["metadata"]["name"].endswith("-dashboard")
    ]
    dashboard = json.loads(configmap["data"]["slimgate.json"])
    expressions += [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    named = {name for expr in expressions for name in SLIMGATE_NAME.findall(expr)}
    assert len(named) >= 5
    assert named <= exported, sorted(named - exported)
