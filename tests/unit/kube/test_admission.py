"""AdmissionReview v1 validation and the response builders."""

from __future__ import annotations

import pytest

from slimgate.errors import InvalidReview
from slimgate.kube import responses
from slimgate.kube.admission import parse_review
from tests.support import admission


def test_parse_reads_the_fields_the_webhook_uses() -> None:
    body = admission.review(admission.pod(["app:1"]), dry_run=True, uid="u-1")
    review = parse_review(body)
    assert (review.uid, review.kind, review.group, review.operation) == ("u-1", "Pod", "", "CREATE")
    assert review.namespace == "default"
    assert review.name == "web"
    assert review.dry_run is True
    assert review.object is not None
    assert review.old_object is None


def test_parse_reads_the_subresource() -> None:
    review = parse_review(admission.ephemeral_update(["app:1"], "busybox"))
    assert review.sub_resource == "ephemeralcontainers"
    assert review.operation == "UPDATE"


@pytest.mark.parametrize(
    ("body", "reason", "uid"),
    [
        ([], "not a JSON object", None),
        ({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}, "apiVersion", None),
        ({"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}, "kind must be", None),
        ({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, "request is", None),
        (
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}},
            "uid",
            None,
        ),
    ],
)
def test_parse_rejects_with_a_reason(body: object, reason: str, uid: str | None) -> None:
    with pytest.raises(InvalidReview, match=reason) as info:
        parse_review(body)
    assert info.value.uid == uid


def test_parse_keeps_the_uid_when_the_rest_is_wrong() -> None:
    body = admission.review(admission.pod(["app:1"]), uid="u-2")
    body["request"]["object"] = "not an object"
    with pytest.raises(InvalidReview, match=r"request\.object") as info:
        parse_review(body)
    assert info.value.uid == "u-2"


@pytest.mark.parametrize("operation", ["PATCH", "create", ""])
def test_an_unknown_operation_is_not_a_review(operation: str) -> None:
    body = admission.review(admission.pod(["app:1"]), uid="u-5")
    body["request"]["operation"] = operation
    with pytest.raises(InvalidReview, match=r"request\.operation") as info:
        parse_review(body)
    assert info.value.uid == "u-5"


def test_every_operation_the_api_server_sends_is_read() -> None:
    for operation in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
        body = admission.review(admission.pod(["app:1"]), operation=operation)
        assert parse_review(body).operation == operation


def test_allow_echoes_the_uid_and_omits_empty_warnings() -> None:
    answer = responses.allow("u-3")
    assert answer == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": "u-3", "allowed": True},
    }


def test_deny_carries_code_reason_and_message() -> None:
    answer = responses.deny("u-4", "no toolchains", warnings=["spec.containers[0].image: big"])
    assert answer["response"]["allowed"] is False
    assert answer["response"]["status"] == {
        "code": 403,
        "reason": "Forbidden",
        "message": "no toolchains",
    }
    assert answer["response"]["warnings"] == ["spec.containers[0].image: big"]


def test_warning_lines_are_one_line_short_and_unprefixed() -> None:
    line = responses.warning_line("Warning: spec.containers[0].image: " + "x" * 200 + "\nmore")
    assert len(line) == 120
    assert "\n" not in line
    assert line.startswith("spec.containers[0].image: ")
    assert line.endswith("...")
    assert line.isascii()


def test_warnings_are_deduplicated_and_capped() -> None:
    answer = responses.allow("u", [f"w{i}" for i in range(40)] + ["w0"])
    lines = answer["response"]["warnings"]
    assert len(lines) == responses.MAX_WARNINGS
    assert lines[-1] == "slimgate: 25 more warnings not shown"
