"""Reviews of any size get bounded work: containers and distinct images past the limits are
not looked up, they share one onRegistryError decision and one message, and the decision
log line names a bounded number of containers.

Times are generous behaviour bounds; the cost itself is measured in
``bench/bench_large_reviews.py``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from slimgate.analysis.complexity import too_complex
from slimgate.config import WebhookSettings
from slimgate.policy.decision import Mode, Verdict
from slimgate.policy.model import Policy
from slimgate.runtime.jsonlog import JsonFormatter
from slimgate.webhook.app import create_app
from slimgate.webhook.handler import LOGGED_IMAGES, MAX_JSON_CONTAINERS
from tests.support import admission
from tests.unit.webhook.conftest import post
from tests.unit.webhook.fakes import BLOATED, DEFAULT_RULES, FakeEngine

SMALL = WebhookSettings(max_containers=10, max_images=4)


def pod_of(images: list[str], **kw: Any) -> dict[str, Any]:
    return admission.review(admission.pod(images, **kw), uid="u-limits")


def decision_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(r))
        for r in caplog.records
        if r.getMessage() == "admission decision"
    ]


def test_the_defaults_are_far_above_any_real_pod() -> None:
    assert WebhookSettings().max_containers == 1_000
    assert WebhookSettings().max_images == 256


def test_containers_past_the_limit_share_one_decision_and_one_warning() -> None:
    engine = FakeEngine()
    app = create_app(SMALL, engine)
    images = [f"registry.example/app{i % 3}:1" for i in range(25)]
    response = post(app.test_client(), pod_of(images))
    assert sorted({image for image, _ in engine.calls}) == sorted(set(images))
    assert len(engine.calls) == 3  # only the first ten containers were read
    assert response["allowed"] is True
    assert response["warnings"] == ["spec: 15 containers not checked: more than 10 containers"]


def test_distinct_images_past_the_limit_are_not_looked_up() -> None:
    engine = FakeEngine()
    app = create_app(SMALL, engine)
    images = [f"registry.example/app{i}:1" for i in range(6)] + ["registry.example/app0:1"]
    response = post(app.test_client(), pod_of(images))
    assert sorted(image for image, _ in engine.calls) == [
        f"registry.example/app{i}:1" for i in range(4)
    ]
    assert response["warnings"] == ["spec: 2 containers not checked: more than 4 distinct images"]


def test_both_limits_are_named_in_the_one_line() -> None:
    engine = FakeEngine()
    app = create_app(SMALL, engine)
    images = [f"registry.example/app{i}:1" for i in range(12)]
    response = post(app.test_client(), pod_of(images))
    assert len(engine.calls) == 4
    assert response["warnings"] == [
        "spec: 8 containers not checked: more than 10 containers and 4 distinct images"
    ]


def test_a_template_names_its_own_spec_path() -> None:
    app = create_app(SMALL, FakeEngine())
    obj = admission.workload("CronJob", [f"registry.example/app{i}:1" for i in range(11)])
    response = post(app.test_client(), admission.review(obj))
    assert response["warnings"] == [
        "spec.jobTemplate.spec.template.spec: 7 containers not checked: "
        "more than 10 containers and 4 distinct images"
    ]


@pytest.mark.parametrize("on_error", [Verdict.ALLOW, Verdict.WARN, Verdict.DENY])
def test_the_rest_is_decided_by_on_registry_error(on_error: Verdict) -> None:
    engine = FakeEngine(policy=Policy(rules=DEFAULT_RULES, on_registry_error=on_error))
    app = create_app(SMALL, engine)
    response = post(app.test_client(), pod_of([f"registry.example/app{i}:1" for i in range(5)]))
    line = "spec: 1 container not checked: more than 4 distinct images"
    if on_error is Verdict.DENY:
        assert response["allowed"] is False
        message = response["status"]["message"]
        assert message.startswith("slimgate: 1 container denied by the image hygiene policy\n")
        assert f"{line}:\n  - [registry-error] could not be checked:" in message
        assert "warnings" not in response
    else:  # allow still says so, as for an unreadable image
        assert response["allowed"] is True
        assert response["warnings"] == [line]


def test_a_denied_container_and_the_denied_rest_are_counted_together() -> None:
    engine = FakeEngine(policy=Policy(rules=DEFAULT_RULES, on_registry_error=Verdict.DENY))
    engine.canned["registry.example/go:1"] = BLOATED
    app = create_app(SMALL, engine)
    images = ["registry.example/go:1"] + [f"registry.example/app{i}:1" for i in range(5)]
    response = post(app.test_client(), pod_of(images))
    message = response["status"]["message"]
    assert message.startswith("slimgate: 3 containers denied by the image hygiene policy\n")
    assert "spec.containers[0]" in message  # the toolchain image, with its own finding


def test_audit_mode_and_exemptions_keep_the_rest_quiet() -> None:
    engine = FakeEngine(policy=Policy(rules=DEFAULT_RULES, mode=Mode.AUDIT))
    app = create_app(SMALL, engine)
    response = post(app.test_client(), pod_of([f"registry.example/app{i}:1" for i in range(5)]))
    assert response == {"uid": "u-limits", "allowed": True}


def test_an_update_that_grows_past_the_limit_is_checked_up_to_it() -> None:
    engine = FakeEngine()
    app = create_app(SMALL, engine)
    old = admission.pod([f"registry.example/app{i % 2}:1" for i in range(3)])
    new = admission.pod([f"registry.example/app{i % 2}:1" for i in range(12)])
    body = admission.review(new, kind="Pod", operation="UPDATE", old=old, uid="u-up")
    body["request"]["subResource"] = "ephemeralcontainers"  # the UPDATE pods are sent on
    response = post(app.test_client(), body)
    assert response["warnings"] == ["spec: 2 containers not checked: more than 10 containers"]
    assert {image for image, _ in engine.calls} <= {
        "registry.example/app0:1",
        "registry.example/app1:1",
    }


def test_the_decision_log_line_names_at_most_twenty_containers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(WebhookSettings(max_containers=100, max_images=100), FakeEngine())
    with caplog.at_level(logging.INFO, logger="slimgate.webhook"):
        post(app.test_client(), pod_of([f"registry.example/app{i}:1" for i in range(150)]))
    (entry,) = decision_lines(caplog)
    assert len(entry["images"]) == LOGGED_IMAGES == 20
    assert entry["images"][0]["path"] == "spec.containers[0].image"
    assert entry["imageCount"] == 100
    assert entry["imagesNotLogged"] == 80
    assert entry["unchecked"] == {
        "count": 50,
        "reason": "more than 100 containers",
        "decision": "warn",
    }


def test_a_pod_of_90000_distinct_images_is_answered_quickly_with_bounded_output(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The 3 MiB Pod that took 11 s of CPU and wrote one 61 MB log line."""
    engine = FakeEngine()
    app = create_app(WebhookSettings(), engine)
    containers = [{"name": f"c{i}", "image": f"i{i}"} for i in range(90_000)]
    pod = admission.pod([])
    pod["spec"]["containers"] = containers
    data = json.dumps(admission.review(pod, uid="u-huge"), separators=(",", ":"))
    assert len(data) < 3 * 1024 * 1024
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="slimgate.webhook"):
        answer = app.test_client().post("/validate", data=data, content_type="application/json")
    assert time.monotonic() - started < 10.0
    assert answer.status_code == 200
    response = answer.get_json()["response"]
    assert response["uid"] == "u-huge"
    assert len(engine.calls) == 256
    assert response["warnings"][0] == (
        "spec: 89,744 containers not checked: more than 1,000 containers and 256 distinct images"
    )
    assert len(answer.get_data()) < 10_000
    (entry,) = decision_lines(caplog)
    line = JsonFormatter().format(
        next(r for r in caplog.records if r.getMessage() == "admission decision")
    )
    assert len(line) < 10_000
    assert entry["unchecked"]["count"] == 89_744


def test_a_too_complex_image_is_named_even_when_on_registry_error_allows() -> None:
    engine = FakeEngine(policy=Policy(rules=DEFAULT_RULES, on_registry_error=Verdict.ALLOW))
    engine.canned["registry.example/gcc:1"] = too_complex("59,871 history entries (limit 1,000)", 1)
    app = create_app(WebhookSettings(), engine)
    response = post(app.test_client(), pod_of(["registry.example/gcc:1"]))
    assert response["allowed"] is True
    assert response["warnings"] == [
        "spec.containers[0].image: too complex to analyse: 59,871 history entries (limit 1,000)"
    ]


def test_megabytes_of_labels_are_read_once_per_review_not_once_per_image() -> None:
    """Sorting 150,000 labels again for each of 256 images took seconds per review."""
    engine = FakeEngine()
    app = create_app(WebhookSettings(), engine)
    labels = {f"l{i}": "v" for i in range(150_000)}
    body = pod_of([f"registry.example/app{i}:1" for i in range(256)], labels=labels)
    data = json.dumps(body, separators=(",", ":"))
    assert len(data) < 3 * 1024 * 1024
    client = app.test_client()
    started = time.monotonic()
    for _ in range(2):  # the second review finds every image in the memo
        answer = client.post("/validate", data=data, content_type="application/json")
        assert answer.status_code == 200
    assert time.monotonic() - started < 10.0
    assert len(engine.calls) == 256


def test_a_body_of_too_many_json_objects_is_refused_before_it_is_parsed() -> None:
    """3 MiB of tiny objects took most of a second to parse, on the loop that answers
    /healthz."""
    app = create_app(WebhookSettings(), FakeEngine())
    client = app.test_client()
    dense = b'{"a":[' + b",".join([b"[]"] * (MAX_JSON_CONTAINERS + 1)) + b"]}"
    answer = client.post("/validate", data=dense, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["reason"] == "body has more than 200,000 JSON objects and arrays"
    pod = admission.pod([])
    pod["spec"]["containers"] = [{"image": "i"} for i in range(150_000)]
    answer = client.post("/validate", json=admission.review(pod, uid="u-ok"))
    assert answer.status_code == 200  # 150,000 containers: dense, but under the limit
