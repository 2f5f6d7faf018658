"""Bad input, registry errors and the deadline: always an answer, never a 500 or a hang."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

import pytest
from flask.testing import FlaskClient

from slimgate.config import WebhookSettings
from slimgate.errors import RateLimited, RegistryUnavailable
from slimgate.evaluation import ImageResult
from slimgate.model import DEFAULT_PLATFORM, Platform, Subject
from slimgate.policy.decision import Verdict
from slimgate.policy.model import Policy
from slimgate.webhook.app import create_app
from tests.support import admission
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import DEFAULT_RULES, FakeEngine

IMAGE = "registry.example/team/api:1.4"


def bad(client: FlaskClient, data: bytes | str, content_type: str = "application/json") -> str:
    answer = client.post("/validate", data=data, content_type=content_type)
    assert answer.status_code == 400
    document = answer.get_json()
    assert document["error"] == "bad request"
    return str(document["reason"])


def test_non_json_is_a_400_with_a_reason(client: FlaskClient) -> None:
    assert "not JSON" in bad(client, "{nope")
    assert "not JSON" in bad(client, b"\xff\xfe")
    assert "not JSON" in bad(client, "[" * 100_000)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}, "apiVersion"),
        ({"apiVersion": "admission.k8s.io/v1", "kind": "Review"}, "kind must be"),
        ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, "request"),
        ([1, 2], "JSON object"),
    ],
)
def test_wrong_envelope_is_a_400_with_a_reason(
    client: FlaskClient, body: object, reason: str
) -> None:
    assert reason in bad(client, json.dumps(body))


def test_unexpected_object_shape_with_a_uid_gets_a_review_answer(client: FlaskClient) -> None:
    body = admission.review(admission.pod([IMAGE]), uid="u-9")
    body["request"]["object"]["spec"]["containers"] = "nginx"
    response = post(client, body)
    assert response["uid"] == "u-9"
    assert response["allowed"] is False
    assert response["status"]["code"] == 400
    assert "spec.containers is not a list" in response["status"]["message"]


def test_body_over_the_cap_is_a_400(engine: FakeEngine) -> None:
    app = create_app(WebhookSettings(max_body_bytes=1024), engine)
    body = json.dumps(admission.review(admission.pod([IMAGE] * 40)))
    assert len(body) > 1024
    answer = app.test_client().post("/validate", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert "larger than 1024 bytes" in answer.get_json()["reason"]


def test_wrong_method_is_not_a_500(client: FlaskClient) -> None:
    assert client.get("/validate").status_code == 405


class Exploding(FakeEngine):
    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> ImageResult:
        raise RuntimeError("boom")


@pytest.mark.parametrize("on_error", [Verdict.ALLOW, Verdict.WARN, Verdict.DENY])
def test_an_engine_crash_becomes_the_registry_error_decision(on_error: Verdict) -> None:
    engine = Exploding(policy=Policy(rules=DEFAULT_RULES, on_registry_error=on_error))
    app = create_app(WebhookSettings(), engine)
    response = post(app.test_client(), admission.review(admission.pod([IMAGE])))
    if on_error is Verdict.DENY:
        assert response["allowed"] is False
        message = response["status"]["message"]
        assert f"image {IMAGE}" in message
        assert "could not be checked: evaluation failed: RuntimeError" in message
    else:
        assert response["allowed"] is True
        assert response["warnings"] == [
            f"spec.containers[0].image: {IMAGE} not checked: evaluation failed: RuntimeError"
        ]


class Unrenderable(FakeEngine):
    """Evaluates, but its result breaks the reviewer (an analysis that is not one)."""

    def evaluate(
        self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
    ) -> ImageResult:
        return ImageResult(image, platforms[0], None, None, None, None)  # type: ignore[arg-type]


def test_a_crash_after_evaluation_gets_the_registry_error_decision_not_an_allow() -> None:
    engine = Unrenderable(policy=Policy(rules=DEFAULT_RULES, on_registry_error=Verdict.DENY))
    app = create_app(WebhookSettings(), engine)
    response = post(app.test_client(), admission.review(admission.pod([IMAGE])))
    assert response["allowed"] is False
    message = response["status"]["message"]
    assert f"image {IMAGE}" in message
    assert "could not be checked: evaluation failed: AttributeError" in message


@pytest.mark.parametrize(
    ("on_error", "allowed"),
    [(Verdict.WARN, True), (Verdict.ALLOW, True), (Verdict.DENY, False)],
)
def test_registry_errors_get_the_configured_decision_with_a_visible_message(
    client: FlaskClient, engine: FakeEngine, on_error: Verdict, allowed: bool
) -> None:
    engine.policy = Policy(rules=DEFAULT_RULES, on_registry_error=on_error)
    engine.errors[IMAGE] = RateLimited("registry.example answered 429 Too Many Requests")
    response = post(client, admission.review(admission.pod([IMAGE])))
    assert response["allowed"] is allowed
    if allowed:
        assert response["warnings"] == [
            f"spec.containers[0].image: {IMAGE} not checked: "
            "registry.example answered 429 Too Many Requests"
        ]
    else:
        message = response["status"]["message"]
        assert IMAGE in message
        assert "could not be checked: registry.example answered 429" in message


def test_deadline_gives_pending_images_the_registry_error_decision(
    engine: FakeEngine,
) -> None:
    slow = "registry.example/slow/app:1"
    engine.blocked.add(slow)
    engine.errors[IMAGE] = RegistryUnavailable("connection refused")
    app = create_app(WebhookSettings(timeout_seconds=5, deadline_seconds=0.2), engine)
    try:
        response = post(app.test_client(), admission.review(admission.pod([slow, IMAGE, "ok:1"])))
    finally:
        engine.release.set()
    assert response["allowed"] is True
    # the image the deadline cut off and the one that failed at once keep their own reasons
    assert response["warnings"] == [
        f"spec.containers[0].image: {slow} not checked: registry did not answer within 0.2 s",
        f"spec.containers[1].image: {IMAGE} not checked: connection refused",
    ]
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert "slimgate_admission_deadline_exceeded_total 1.0" in metrics


def test_images_of_one_request_are_evaluated_in_parallel(engine: FakeEngine) -> None:
    barrier = threading.Barrier(3, timeout=10)

    class Meeting(FakeEngine):
        def evaluate(
            self, image: str, subject: Subject, platforms: Sequence[Platform] = (DEFAULT_PLATFORM,)
        ) -> ImageResult:
            barrier.wait()  # only returns once all three images are being evaluated at once
            return super().evaluate(image, subject, platforms)

    app = create_app(WebhookSettings(), Meeting())
    response = post(app.test_client(), admission.review(admission.pod(["a:1", "b:1", "c:1"])))
    assert response["allowed"] is True
    assert "warnings" not in response


def test_deadline_defaults_to_eighty_percent_of_the_timeout() -> None:
    assert WebhookSettings(timeout_seconds=5).deadline == pytest.approx(4.0)
    assert WebhookSettings(timeout_seconds=10, deadline_seconds=3).deadline == 3
