"""Optional objects and packaging: CRDs, NetworkPolicy, ServiceMonitor, helm test,
NOTES and Chart.yaml."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import yaml

from tests.support.chart import Helm, Rendering

REPORT_CRDS = {
    "policyreports.wgpolicyk8s.io": ("PolicyReport", "Namespaced", "v1alpha2"),
    "clusterpolicyreports.wgpolicyk8s.io": ("ClusterPolicyReport", "Cluster", "v1alpha2"),
    "reports.openreports.io": ("Report", "Namespaced", "v1alpha1"),
    "clusterreports.openreports.io": ("ClusterReport", "Cluster", "v1alpha1"),
}


def test_report_crds_are_installed_with_the_report_fields(helm: Helm) -> None:
    rendering = helm.template(values={**AUTO, "operator.reports": "both"})
    crds = {c["metadata"]["name"]: c for c in rendering.all("CustomResourceDefinition")}
    assert set(crds) == set(REPORT_CRDS)
    for name, (kind, scope, version) in REPORT_CRDS.items():
        spec = crds[name]["spec"]
        assert spec["names"]["kind"] == kind
        assert spec["scope"] == scope
        (served,) = spec["versions"]
        assert served["name"] == version
        assert served["served"] is True
        assert served["storage"] is True
        properties = served["schema"]["openAPIV3Schema"]["properties"]
        # Report fields live at the top level, not under spec.
        assert {"results", "summary", "scope", "scopeSelector"} <= set(properties)
        result = properties["results"]["items"]["properties"]
        assert result["result"]["enum"] == ["pass", "fail", "warn", "error", "skip"]
        assert set(properties["summary"]["properties"]) == {"pass", "fail", "warn", "error", "skip"}
        assert crds[name]["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


WG_CRDS = {"policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io"}
OR_CRDS = {"reports.openreports.io", "clusterreports.openreports.io"}
AUTO = {"crds.policyReports.install": "auto", "crds.openReports.install": "auto"}


def test_crds_are_left_to_other_tools_by_default(helm: Helm) -> None:
    """A release that owned the shared report CRDs would stop Kyverno's or Kubewarden's
    chart from installing its own; by default slimgate renders none."""
    assert helm.template().all("CustomResourceDefinition") == []
    assert helm.template(values={"operator.reports": "both"}).all("CustomResourceDefinition") == []
    never = {"crds.policyReports.install": "never", "crds.openReports.install": "never"}
    rendering = helm.template(values={**AUTO, "crds.keep": False})
    assert rendering.names("CustomResourceDefinition") == WG_CRDS
    for crd in rendering.all("CustomResourceDefinition"):
        assert "annotations" not in crd["metadata"]
    assert (
        helm.template(values={**never, "operator.reports": "both"}).all("CustomResourceDefinition")
        == []
    )


def test_auto_crds_follow_the_report_api(helm: Helm) -> None:
    assert helm.template(values=AUTO).names("CustomResourceDefinition") == WG_CRDS
    only_open = helm.template(values={**AUTO, "operator.reports": "openreports"})
    assert only_open.names("CustomResourceDefinition") == OR_CRDS
    only_wg = helm.template(
        values={**AUTO, "operator.reports": "both", "crds.openReports.install": "never"}
    )
    assert only_wg.names("CustomResourceDefinition") == WG_CRDS
    disabled = helm.template(values={**AUTO, "operator.enabled": False})
    assert disabled.all("CustomResourceDefinition") == []
    # always installs a group the operator does not write
    always = helm.template(values={**AUTO, "crds.openReports.install": "always"})
    assert always.names("CustomResourceDefinition") == WG_CRDS | OR_CRDS


def test_auto_leaves_a_group_that_something_else_serves(helm: Helm) -> None:
    """Under a GitOps render, --api-versions is what says the cluster serves a group."""
    both = {**AUTO, "operator.reports": "both"}
    for served in ("wgpolicyk8s.io/v1alpha2", "wgpolicyk8s.io/v1beta1"):
        rendering = helm.template(values=both, extra=("--api-versions", served))
        assert rendering.names("CustomResourceDefinition") == OR_CRDS
    rendering = helm.template(values=both, extra=("--api-versions", "openreports.io/v1alpha1"))
    assert rendering.names("CustomResourceDefinition") == WG_CRDS


def test_crd_annotations_and_labels_are_added(helm: Helm) -> None:
    rendering = helm.template(
        values={
            **AUTO,
            "crds.annotations": {"argocd.argoproj.io/sync-options": "Replace=true"},
            "crds.labels": {"team": "platform"},
        }
    )
    assert rendering.names("CustomResourceDefinition") == WG_CRDS
    for crd in rendering.all("CustomResourceDefinition"):
        assert crd["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Replace=true"
        assert crd["metadata"]["labels"]["team"] == "platform"


def test_an_unknown_crd_mode_is_refused(helm: Helm) -> None:
    assert "install" in helm.template_error(values={"crds.policyReports.install": "yes"})
    assert "install" in helm.template_error(values={"crds.install": True})


def test_network_policy_opens_only_the_webhook_port(helm: Helm) -> None:
    assert helm.template().all("NetworkPolicy") == []
    source = [{"ipBlock": {"cidr": "10.0.0.0/8"}}]
    rendering = helm.template(
        values={"networkPolicy.enabled": True, "networkPolicy.ingressFrom": source}
    )
    policies = {p["metadata"]["name"]: p["spec"] for p in rendering.all("NetworkPolicy")}
    webhook = policies["slimgate-webhook"]
    assert webhook["policyTypes"] == ["Ingress"]
    (rule,) = webhook["ingress"]
    assert rule["ports"] == [{"port": "https", "protocol": "TCP"}]
    assert rule["from"] == source
    operator = policies["slimgate-operator"]
    assert operator["policyTypes"] == ["Ingress"]
    (rule,) = operator["ingress"]  # metrics and health only
    assert rule["ports"] == [
        {"port": "metrics", "protocol": "TCP"},
        {"port": "health", "protocol": "TCP"},
    ]


def test_service_monitor_scrapes_metrics_over_verified_https(helm: Helm) -> None:
    assert helm.template().all("ServiceMonitor") == []
    rendering = helm.template(
        namespace="tools",
        values={"serviceMonitor.enabled": True, "serviceMonitor.labels": {"release": "prom"}},
    )
    monitor = rendering.one("ServiceMonitor", "slimgate-webhook")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["scheme"]) == (
        "https",
        "/metrics",
        "https",
    )
    assert endpoint["tlsConfig"]["ca"]["secret"] == {
        "name": "slimgate-webhook-tls",
        "key": "ca.crt",
    }
    assert endpoint["tlsConfig"]["serverName"] == "slimgate-webhook.tools.svc"
    service = rendering.one("Service", "slimgate-webhook")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )

    operator_monitor = rendering.one("ServiceMonitor", "slimgate-operator")
    (endpoint,) = operator_monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["scheme"]) == ("metrics", "http")
    metrics = rendering.one("Service", "slimgate-operator-metrics")
    selector = operator_monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= metrics["metadata"]["labels"].items()
    assert metrics["spec"]["ports"][0]["targetPort"] == "metrics"


def test_helm_test_posts_an_admission_review_to_the_service(helm: Helm) -> None:
    rendering = helm.template(namespace="tools")
    pods = [
        p for p in rendering.all("Pod") if p["metadata"]["annotations"]["helm.sh/hook"] == "test"
    ]
    (pod,) = pods
    configmap = next(
        c
        for c in rendering.all("ConfigMap")
        if c["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    )
    review = json.loads(configmap["data"]["review.json"])
    assert review["apiVersion"] == "admission.k8s.io/v1"
    assert review["kind"] == "AdmissionReview"
    request = review["request"]
    assert request["operation"] == "CREATE"
    assert request["resource"] == {"group": "", "version": "v1", "resource": "pods"}
    assert request["object"]["spec"]["containers"][0]["image"].startswith("ghcr.io/slimgate/")

    script = "\n".join(pod["spec"]["containers"][0]["args"])
    assert "https://slimgate-webhook.tools.svc:443/validate" in script
    assert "--cacert /test/ca/ca.crt" in script
    assert request["uid"] in script  # the answer must echo the request's uid
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["ca"]["secret"]["secretName"] == "slimgate-webhook-tls"
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def test_helm_test_in_secret_mode_trusts_the_given_ca_bundle(helm: Helm) -> None:
    from .test_tls import SECRET_MODE_VALUES

    rendering = helm.template(values_files=[SECRET_MODE_VALUES])
    configmap = next(
        c
        for c in rendering.all("ConfigMap")
        if c["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    )
    given = yaml.safe_load(SECRET_MODE_VALUES.read_text())["tls"]["secret"]["caBundle"]
    assert configmap["data"]["ca.crt"] == base64.b64decode(given).decode()
    pod = next(
        p
        for p in rendering.all("Pod")
        if p["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    )
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert "secret" not in volumes["ca"]  # the given bundle, not the serving Secret
    assert volumes["ca"]["configMap"]["name"] == configmap["metadata"]["name"]


def render_notes(
    helm: Helm,
    tmp_path: Path,
    values: dict[str, object] | None = None,
    extra: tuple[str, ...] = (),
) -> str:
    """NOTES.txt as `helm install` prints it, rendered without a cluster.

    `helm template` skips NOTES.txt and `helm install --dry-run` wants a
    cluster, so a copy of the chart gets one extra template that runs the
    real NOTES.txt through `tpl` with the same context.
    """
    chart = tmp_path / "slimgate"
    shutil.copytree(helm.chart, chart)
    (chart / "files").mkdir()
    shutil.copy(chart / "templates" / "NOTES.txt", chart / "files" / "NOTES.txt")
    (chart / "templates" / "zz-notes.yaml").write_text(
        'notes: {{ tpl (.Files.Get "files/NOTES.txt") . | toJson }}\n'
    )
    copy = Helm(helm.binary, chart)
    rendering = copy.template(
        values=values or {}, extra=["--show-only", "templates/zz-notes.yaml", *extra]
    )
    (document,) = rendering.manifests
    notes: str = document["notes"]
    return notes


def test_notes_show_how_to_see_a_warning(helm: Helm, tmp_path: Path) -> None:
    notes = render_notes(helm, tmp_path)
    assert "kubectl create namespace slimgate-demo" in notes
    assert "-n slimgate-demo run toolchain --image=golang:" in notes
    assert "--dry-run=server" in notes
    assert "policy mode:    warn" in notes
    assert 'kubectl prints "Warning: ..."' in notes
    assert "--set config.policy.mode=enforce" in notes
    assert "not a security boundary" in notes


def test_notes_in_enforce_mode_say_the_request_is_denied(helm: Helm, tmp_path: Path) -> None:
    notes = render_notes(helm, tmp_path, {"config.policy.mode": "enforce"})
    assert "In enforce mode the request is denied" in notes
    assert "--set config.policy.mode=enforce" not in notes


def test_notes_warn_when_match_conditions_are_left_out(helm: Helm, tmp_path: Path) -> None:
    values: dict[str, object] = {"webhook.matchConditions": [{"name": "a", "expression": "true"}]}
    older = render_notes(helm, tmp_path / "old", values, ("--kube-version", "1.27.1"))
    assert "webhook.matchConditions were left out" in older
    newer = render_notes(helm, tmp_path / "new", values)
    assert "left out" not in newer


def test_notes_say_how_self_managed_tls_works(helm: Helm, tmp_path: Path) -> None:
    notes = render_notes(helm, tmp_path, {"tls.mode": "selfManaged"})
    assert "TLS is self-managed" in notes
    assert "slimgate-webhook-tls" in notes


def test_notes_say_how_reports_start_when_no_report_api_is_served(
    helm: Helm, tmp_path: Path
) -> None:
    bare = render_notes(helm, tmp_path / "bare")
    assert "No PolicyReport API (wgpolicyk8s.io/v1alpha2) is served" in bare
    assert "--set crds.policyReports.install=auto" in bare
    served = ("--api-versions", "wgpolicyk8s.io/v1alpha2")
    assert "No PolicyReport API" not in render_notes(helm, tmp_path / "served", None, served)
    auto = render_notes(helm, tmp_path / "auto", {"crds.policyReports.install": "auto"})
    assert "No PolicyReport API" not in auto
    openreports = render_notes(helm, tmp_path / "or", {"operator.reports": "openreports"})
    assert "No PolicyReport API" not in openreports


def test_chart_yaml_has_artifact_hub_annotations(helm: Helm) -> None:
    chart = yaml.safe_load((helm.chart / "Chart.yaml").read_text())
    annotations = chart["annotations"]
    assert annotations["artifacthub.io/license"] == "Apache-2.0"
    assert annotations["artifacthub.io/category"] == "security"
    links = yaml.safe_load(annotations["artifacthub.io/links"])
    assert any(link["name"] == "Source" and link["url"].startswith("https://") for link in links)
    images = yaml.safe_load(annotations["artifacthub.io/images"])
    assert f"ghcr.io/slimgate/slimgate:{chart['appVersion']}" in [i["image"] for i in images]
    crds = yaml.safe_load(annotations["artifacthub.io/crds"])
    assert {c["name"] for c in crds} == set(REPORT_CRDS)


def names_by_kind(rendering: Rendering) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for manifest in rendering.manifests:
        out.setdefault(manifest["kind"], set()).add(manifest["metadata"]["name"])
    return out


def test_fullname_override_renames_everything(helm: Helm) -> None:
    rendering = helm.template(values={"fullnameOverride": "gate"})
    for kind, names in names_by_kind(rendering).items():
        if kind == "CustomResourceDefinition":
            continue
        assert all(name.startswith("gate") for name in names), (kind, names)
