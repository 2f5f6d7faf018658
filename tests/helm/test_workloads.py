"""The webhook and operator Deployments: availability, probes, hardening, mounts."""

from __future__ import annotations

import re

from tests.support.chart import REPO_ROOT, Helm, Manifest, Rendering, container, pod_spec

FULLNAME = "slimgate"


def webhook(rendering: Rendering) -> Manifest:
    return rendering.one("Deployment", f"{FULLNAME}-webhook")


def operator(rendering: Rendering) -> Manifest:
    return rendering.one("Deployment", f"{FULLNAME}-operator")


def dockerfile_user() -> str:
    users = re.findall(r"^USER\s+(\S+)", (REPO_ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users, "the Dockerfile sets no USER"
    return str(users[-1])


def test_webhook_runs_two_replicas_with_a_pod_disruption_budget(helm: Helm) -> None:
    rendering = helm.template()
    deployment = webhook(rendering)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pdb = rendering.one("PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_single_replica_gets_no_budget_that_would_block_drains(helm: Helm) -> None:
    rendering = helm.template(values={"webhook.replicaCount": 1})
    assert webhook(rendering)["spec"]["replicas"] == 1
    assert rendering.all("PodDisruptionBudget") == []


def test_webhook_pods_prefer_different_nodes(helm: Helm) -> None:
    deployment = webhook(helm.template())
    terms = pod_spec(deployment)["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert len(terms) == 1
    term = terms[0]["podAffinityTerm"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_priority_class_is_optional(helm: Helm) -> None:
    assert "priorityClassName" not in pod_spec(webhook(helm.template()))
    rendering = helm.template(values={"webhook.priorityClassName": "system-cluster-critical"})
    assert pod_spec(webhook(rendering))["priorityClassName"] == "system-cluster-critical"


def test_probes_are_https_on_readyz_and_healthz(helm: Helm) -> None:
    main = container(webhook(helm.template()), "webhook")
    assert main["ports"] == [{"name": "https", "containerPort": 8443, "protocol": "TCP"}]
    expected = {"startupProbe": "/readyz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe, path in expected.items():
        get = main[probe]["httpGet"]
        assert get == {"path": path, "port": "https", "scheme": "HTTPS"}, probe
    assert main["resources"]["requests"]["cpu"]
    assert main["resources"]["limits"]["memory"]


def test_a_stopping_webhook_keeps_answering_while_its_endpoint_goes(helm: Helm) -> None:
    deployment = webhook(helm.template())
    hook = container(deployment, "webhook")["lifecycle"]["preStop"]["exec"]["command"]
    assert hook == ["python", "-c", "import time; time.sleep(5)"]
    # the delay, then the server's graceful shutdown of 20 s, fit in the grace period
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] == 35
    off = webhook(helm.template(values={"webhook.shutdownDelaySeconds": 0}))
    assert "lifecycle" not in container(off, "webhook")
    assert pod_spec(off)["terminationGracePeriodSeconds"] == 30


def test_webhook_serves_with_the_mounted_config_and_certificate(helm: Helm) -> None:
    rendering = helm.template(values={"webhook.port": 9443})
    main = container(webhook(rendering), "webhook")
    args = main["args"]
    assert args[0] == "serve"
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert options == {
        "--config": "/etc/slimgate/config.yaml",
        "--tls-cert": "/etc/slimgate-tls/tls.crt",
        "--tls-key": "/etc/slimgate-tls/tls.key",
        "--port": "9443",
    }
    mounts = {m["name"]: m for m in main["volumeMounts"]}
    # The whole directory: subPath mounts never see ConfigMap updates, and the
    # webhook reloads the file when the kubelet swaps it.
    assert mounts["config"]["mountPath"] == "/etc/slimgate"
    assert "subPath" not in mounts["config"]
    assert mounts["tls"]["mountPath"] == "/etc/slimgate-tls"
    volumes = {v["name"]: v for v in pod_spec(webhook(rendering))["volumes"]}
    assert volumes["config"]["configMap"]["name"] == "slimgate-config"
    assert main["ports"][0]["containerPort"] == 9443


def test_every_pod_is_hardened_and_runs_as_the_image_user(helm: Helm) -> None:
    rendering = helm.template()
    uid = int(dockerfile_user().split(":")[0])
    assert uid == 65532
    for deployment, name in ((webhook(rendering), "webhook"), (operator(rendering), "operator")):
        spec = pod_spec(deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == uid
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        context = container(deployment, name)["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] == uid
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        # A writable /tmp on an emptyDir, since the root filesystem is read-only.
        mounts = {m["mountPath"]: m["name"] for m in container(deployment, name)["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]


def test_webhook_mounts_no_token_unless_it_reads_pull_secrets(helm: Helm) -> None:
    rendering = helm.template()
    assert pod_spec(webhook(rendering))["automountServiceAccountToken"] is False
    account = rendering.one("ServiceAccount", f"{FULLNAME}-webhook")
    assert account["automountServiceAccountToken"] is False

    rendering = helm.template(values={"config.registry.pullSecrets": True})
    assert pod_spec(webhook(rendering))["automountServiceAccountToken"] is True
    account = rendering.one("ServiceAccount", f"{FULLNAME}-webhook")
    assert account["automountServiceAccountToken"] is True


def test_operator_runs_once_with_its_own_service_account(helm: Helm) -> None:
    rendering = helm.template()
    deployment = operator(rendering)
    assert deployment["spec"]["replicas"] == 1
    spec = pod_spec(deployment)
    assert spec["serviceAccountName"] == f"{FULLNAME}-operator"
    assert spec["serviceAccountName"] != pod_spec(webhook(rendering))["serviceAccountName"]
    main = container(deployment, "operator")
    args = main["args"]
    assert args[0] == "operator"
    options = dict(zip(args[1::2], args[2::2], strict=True))
    assert options == {
        "--config": "/etc/slimgate/config.yaml",
        "--reports": "policyreport",
        # Replicas elect the report writer with a Lease the Role lets them use.
        "--lease-name": f"{FULLNAME}-operator",
        "--lease-namespace": "slimgate",
        "--metrics-port": "8080",
        "--liveness": "http://0.0.0.0:8081/healthz",
    }
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    env = {e["name"]: e for e in main["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_a_policy_change_rolls_the_operator_which_reads_its_config_at_start(helm: Helm) -> None:
    def config_checksum(values: dict[str, object]) -> str:
        annotations = operator(helm.template(values=values))["spec"]["template"]["metadata"]
        return str(annotations["annotations"]["checksum/config"])

    warn = config_checksum({"config.policy.mode": "warn"})
    assert config_checksum({"config.policy.mode": "warn"}) == warn
    assert config_checksum({"config.policy.mode": "enforce"}) != warn


def test_operator_can_be_switched_off(helm: Helm) -> None:
    rendering = helm.template(values={"operator.enabled": False})
    assert rendering.names("Deployment") == {f"{FULLNAME}-webhook"}
    assert f"{FULLNAME}-operator" not in rendering.names("ServiceAccount")
    assert rendering.all("ClusterRole") == []


def test_image_tag_defaults_to_app_version_and_digest_wins(helm: Helm) -> None:
    app_version = re.search(
        r'^appVersion:\s*"?([^"\n]+)"?', (helm.chart / "Chart.yaml").read_text(), re.MULTILINE
    )
    assert app_version is not None
    image = container(webhook(helm.template()), "webhook")["image"]
    assert image == f"ghcr.io/slimgate/slimgate:{app_version.group(1)}"

    digest = "sha256:" + "ab" * 32
    rendering = helm.template(values={"image.digest": digest, "image.tag": "ignored"})
    assert (
        container(webhook(rendering), "webhook")["image"] == f"ghcr.io/slimgate/slimgate@{digest}"
    )
    assert container(operator(rendering), "operator")["image"].endswith(digest)


def test_every_object_carries_the_standard_labels(helm: Helm) -> None:
    rendering = helm.template(release="gate", values={"commonLabels": {"team": "platform"}})
    for manifest in rendering.manifests:
        labels = manifest["metadata"]["labels"]
        where = f"{manifest['kind']}/{manifest['metadata']['name']}"
        assert labels["app.kubernetes.io/name"] == "slimgate", where
        assert labels["app.kubernetes.io/instance"] == "gate", where
        assert labels["app.kubernetes.io/managed-by"] == "Helm", where
        assert labels["helm.sh/chart"].startswith("slimgate-"), where
        assert labels["team"] == "platform", where
