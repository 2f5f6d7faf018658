"""/validate through Flask's test client: what is checked, and how the answer reads."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from slimgate.policy.decision import Mode, RuleAction
from slimgate.policy.model import Policy
from slimgate.webhook.handler import Begun
from tests.support import admission
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import BLOATED, DEFAULT_RULES, LARGE, FakeEngine

GO = "registry.example/team/api:1.4"
BIG = "registry.example/team/big:2"
OK = "registry.example/team/ok:1"


def evaluated(engine: FakeEngine) -> list[str]:
    return sorted(image for image, _ in engine.calls)


def test_clean_pod_is_allowed_and_the_uid_echoed(client: FlaskClient, engine: FakeEngine) -> None:
    response = post(client, admission.review(admission.pod([OK]), uid="uid-1"))
    assert response == {"uid": "uid-1", "allowed": True}
    assert evaluated(engine) == [OK]


def test_toolchain_pod_is_denied_with_an_actionable_message(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    response = post(client, admission.review(admission.pod([OK, GO]), uid="uid-2"))
    assert response["uid"] == "uid-2"
    assert response["allowed"] is False
    status = response["status"]
    assert status["code"] == 403
    assert status["reason"] == "Forbidden"
    message = status["message"]
    assert (
        'spec.containers[1] ("c1") image registry.example/team/api:1.4, built on golang' in message
    )
    assert "[toolchain-base] built on golang: the Go toolchain" in message
    assert "Fix: build in a golang stage, COPY --from=build" in message
    assert OK not in message
    # the hint comes second, where cutting a long message at its limit cannot drop it
    assert message.splitlines()[1] == (
        "Hint: `slimgate fix Dockerfile` writes that multi-stage build from the image's Dockerfile."
    )


def test_a_denial_no_multi_stage_build_removes_carries_no_fix_hint(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = LARGE
    engine.policy = Policy(rules={"oversize-layer": RuleAction.DENY})
    response = post(client, admission.review(admission.pod([GO])))
    assert response["allowed"] is False
    assert "[oversize-layer]" in response["status"]["message"]
    assert "slimgate fix" not in response["status"]["message"]


def test_deployment_warning_names_the_template_field_path(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[BIG] = LARGE
    obj = admission.workload("Deployment", [OK, BIG])
    response = post(client, admission.review(obj))
    assert response["allowed"] is True
    assert response["warnings"] == [
        "spec.template.spec.containers[1].image: layer 3 is 310 MB (limit 200 MB)"
    ]


def test_cronjob_is_checked_through_the_job_template(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    response = post(client, admission.review(admission.workload("CronJob", [GO])))
    assert response["allowed"] is False
    assert "spec.jobTemplate.spec.template.spec.containers[0]" in response["status"]["message"]


def test_every_template_kind_is_checked(client: FlaskClient, engine: FakeEngine) -> None:
    engine.canned[GO] = BLOATED
    for kind in ["StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"]:
        response = post(client, admission.review(admission.workload(kind, [GO])))
        assert response["allowed"] is False, kind


def test_warnings_fit_the_apiserver_limits(client: FlaskClient, engine: FakeEngine) -> None:
    engine.canned[BIG] = LARGE
    engine.canned[GO] = BLOATED
    engine.policy = Policy(rules=DEFAULT_RULES, mode=Mode.WARN)
    obj = admission.workload("CronJob", [BIG], init=[GO])
    response = post(client, admission.review(obj))
    assert response["allowed"] is True
    assert len(response["warnings"]) == 2
    for line in response["warnings"]:
        assert len(line) <= 120
        assert "\n" not in line
        assert not line.lower().startswith("warning")
        assert line.startswith("spec.jobTemplate.spec.template.spec.")


def test_warn_mode_turns_the_denial_into_a_warning(client: FlaskClient, engine: FakeEngine) -> None:
    engine.canned[GO] = BLOATED
    engine.policy = Policy(rules=DEFAULT_RULES, mode=Mode.WARN)
    response = post(client, admission.review(admission.pod([GO])))
    assert response["allowed"] is True
    assert response["warnings"] == [
        "spec.containers[0].image: built on golang: the Go toolchain (~250 MB) ships to production"
    ]


def test_audit_mode_allows_without_warnings_but_records(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    engine.canned[BIG] = LARGE
    engine.policy = Policy(rules=DEFAULT_RULES, mode=Mode.AUDIT)
    response = post(client, admission.review(admission.pod([GO, BIG])))
    assert response["allowed"] is True
    assert "warnings" not in response
    metrics = client.get("/metrics").get_data(as_text=True)
    assert (
        'slimgate_admission_requests_total{decision="allow",enforced="deny",kind="Pod"} 1.0'
        in metrics
    )
    assert 'slimgate_findings_total{action="deny",rule="toolchain-base"} 1.0' in metrics


def test_dry_run_is_answered_the_same_way(client: FlaskClient, engine: FakeEngine) -> None:
    engine.canned[GO] = BLOATED
    wet = post(client, admission.review(admission.pod([GO]), uid="u"))
    dry = post(client, admission.review(admission.pod([GO]), uid="u", dry_run=True))
    assert dry == wet


def test_same_image_in_two_containers_is_evaluated_once(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    response = post(client, admission.review(admission.pod([GO, GO])))
    assert evaluated(engine) == [GO]
    assert "spec.containers[0]" in response["status"]["message"]
    assert "spec.containers[1]" in response["status"]["message"]


def test_subject_carries_namespace_labels_and_workload(
    client: FlaskClient, engine: FakeEngine
) -> None:
    post(client, admission.review(admission.workload("Deployment", [OK], namespace="shop")))
    ((_, subject),) = engine.calls
    assert subject.namespace == "shop"
    assert subject.labels == {"app": "web"}
    assert subject.workload == "Deployment/web"


# --- what is not checked ------------------------------------------------------------------


def test_ephemeral_container_update_checks_only_the_debugger(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    response = post(client, admission.ephemeral_update([OK], GO))
    assert evaluated(engine) == [GO]
    assert response["allowed"] is False
    assert "spec.ephemeralContainers[0]" in response["status"]["message"]


def test_update_evaluates_only_new_or_changed_images(
    client: FlaskClient, engine: FakeEngine
) -> None:
    old = admission.workload("Deployment", [OK, BIG])
    new = admission.workload("Deployment", [OK, GO])
    post(client, admission.review(new, operation="UPDATE", old=old))
    assert evaluated(engine) == [GO]


def test_scaling_a_deployment_evaluates_nothing(client: FlaskClient, engine: FakeEngine) -> None:
    engine.canned[GO] = BLOATED
    old = admission.workload("Deployment", [GO])
    new = admission.workload("Deployment", [GO])
    new["spec"]["replicas"] = 5
    response = post(client, admission.review(new, operation="UPDATE", old=old))
    assert response["allowed"] is True
    assert engine.calls == []


def test_own_and_excluded_namespaces_are_never_checked(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    for namespace in ["kube-system", "slimgate"]:
        response = post(client, admission.review(admission.pod([GO], namespace=namespace)))
        assert response["allowed"] is True
    assert engine.calls == []


def test_mirror_pods_are_skipped(client: FlaskClient, engine: FakeEngine) -> None:
    engine.canned[GO] = BLOATED
    obj = admission.pod([GO], annotations={"kubernetes.io/config.mirror": "a1b2"})
    assert post(client, admission.review(obj))["allowed"] is True
    assert engine.calls == []


def test_other_kinds_subresources_and_operations_are_allowed_unchecked(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    configmap = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}, "data": {}}
    status_update = admission.review(
        admission.pod([GO]), operation="UPDATE", old=admission.pod([OK]), sub_resource="status"
    )
    delete = admission.review(None, kind="Pod", operation="DELETE", old=admission.pod([GO]))
    for body in [admission.review(configmap), status_update, delete]:
        assert post(client, body)["allowed"] is True
    assert engine.calls == []


def test_identical_reviews_within_the_memo_window_evaluate_once(
    client: FlaskClient, engine: FakeEngine
) -> None:
    engine.canned[GO] = BLOATED
    first = post(client, admission.review(admission.pod([GO]), uid="a"))
    second = post(client, admission.review(admission.pod([GO]), uid="b"))
    assert evaluated(engine) == [GO]
    assert second["status"] == first["status"]
    assert second["uid"] == "b"
    post(client, admission.review(admission.pod([GO], namespace="other")))
    assert evaluated(engine) == [GO, GO]  # another subject is another decision


def test_pods_that_differ_only_in_name_share_the_decision_but_not_across_credentials(
    client: FlaskClient, engine: FakeEngine
) -> None:
    """Bare pods and Jobs' pods each have a name of their own: the decision does not depend
    on it, so the second is answered from the memo. Labels (exemptions match them) and the
    credentials the pod pulls with are part of what was decided, so they are not shared."""
    engine.canned[GO] = BLOATED
    post(client, admission.review(admission.pod([GO], name="job-1", labels={"app": "x"})))
    post(client, admission.review(admission.pod([GO], name="job-2", labels={"app": "x"})))
    assert evaluated(engine) == [GO]
    post(client, admission.review(admission.pod([GO], name="job-3", labels={"app": "y"})))
    assert evaluated(engine) == [GO, GO]
    with_secret = admission.pod([GO], name="job-4", labels={"app": "x"})
    with_secret["spec"]["imagePullSecrets"] = [{"name": "team-registry"}]
    post(client, admission.review(with_secret))
    assert evaluated(engine) == [GO, GO, GO]
    other_account = admission.pod([GO], name="job-5", labels={"app": "x"})
    other_account["spec"]["serviceAccountName"] = "builder"
    post(client, admission.review(other_account))
    assert evaluated(engine) == [GO, GO, GO, GO]


def test_reviews_queued_behind_the_first_of_a_burst_use_its_answer(
    app: Flask, engine: FakeEngine
) -> None:
    """Both begin before either finishes (a cold burst on the event loop); only one evaluates."""
    engine.canned[GO] = BLOATED
    handler = app.extensions["slimgate"]["handler"]
    first = handler.begin(json.dumps(admission.review(admission.pod([GO]), uid="a")).encode())
    second = handler.begin(json.dumps(admission.review(admission.pod([GO]), uid="b")).encode())
    assert isinstance(first, Begun)
    assert isinstance(second, Begun)
    handler.complete(first)
    status, body = handler.complete(second)
    assert status == 200
    assert json.loads(body)["response"]["allowed"] is False
    assert evaluated(engine) == [GO]


def test_registry_errors_are_not_memoised(client: FlaskClient, engine: FakeEngine) -> None:
    from slimgate.errors import RegistryUnavailable

    engine.errors[GO] = RegistryUnavailable("connection refused")
    post(client, admission.review(admission.pod([GO])))
    post(client, admission.review(admission.pod([GO])))
    assert evaluated(engine) == [GO, GO]


def test_a_pull_secret_entry_without_a_name_is_not_a_bad_object(
    client: FlaskClient, engine: FakeEngine
) -> None:
    """``imagePullSecrets: [{}]`` is valid to the API server; the pod gets the real answer."""
    obj = admission.pod(["registry.example/team/web:1"])
    obj["spec"]["imagePullSecrets"] = [{}]
    response = post(client, admission.review(obj))
    assert response["allowed"] is True
    assert [image for image, _ in engine.calls] == ["registry.example/team/web:1"]


def test_the_fix_is_stated_once_for_several_findings_of_a_container(
    client: FlaskClient, engine: FakeEngine
) -> None:
    from dataclasses import replace

    from slimgate.analysis.findings import Analysis
    from slimgate.policy.decision import RuleAction
    from tests.unit.webhook.fakes import GOLANG, TOOLCHAIN

    build = replace(TOOLCHAIN, rule="build-in-final-image", message="layer 9 runs go build")
    engine.canned[GO] = Analysis(findings=(TOOLCHAIN, build), base=GOLANG, compressed_size=1)
    engine.policy = Policy(rules={**DEFAULT_RULES, "build-in-final-image": RuleAction.DENY})
    message = post(client, admission.review(admission.pod([GO])))["status"]["message"]
    assert "[toolchain-base]" in message
    assert "[build-in-final-image] layer 9 runs go build" in message
    assert message.count("Fix: ") == 1
