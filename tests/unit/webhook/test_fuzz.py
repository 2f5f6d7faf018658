"""Hostile bodies at the admission handler: never a 5xx, never an invalid answer, always the
request's own uid. A sample here; ``bench/bench_fuzz.py`` sends 100,000 over TLS."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimgate.config import WebhookSettings
from slimgate.errors import InvalidReview
from slimgate.kube.admission import parse_review
from slimgate.webhook.app import create_app
from slimgate.webhook.handler import AdmissionHandler
from tests.support import admission, fuzz
from tests.unit.webhook.fakes import BLOATED, FakeEngine

GO = "registry.example/team/api:1.4"
IMAGES = [GO, "registry.example/team/web:2", "nginx:1.27"]


@pytest.fixture
def handler() -> Iterator[AdmissionHandler]:
    engine = FakeEngine(canned={GO: BLOATED})
    app = create_app(WebhookSettings(), engine)
    found = app.extensions["slimgate"]["handler"]
    assert isinstance(found, AdmissionHandler)
    yield found
    app.extensions["slimgate"]["pool"].shutdown(wait=True)


def answer(handler: AdmissionHandler, data: bytes) -> str:
    status, body = handler(data)
    return fuzz.judge(data, status, body)


def test_two_thousand_mutated_reviews_get_valid_answers_with_their_uid(
    handler: AdmissionHandler,
) -> None:
    verdicts = Counter(
        answer(handler, data) for data in fuzz.mutations(fuzz.seeds(IMAGES), 2_000, seed=11)
    )
    assert verdicts == {fuzz.OK: 2_000}


def test_the_seeds_themselves_are_answered_as_reviews(handler: AdmissionHandler) -> None:
    for document in fuzz.seeds(IMAGES):
        data = json.dumps(document).encode()
        status, body = handler(data)
        assert status == 200
        assert fuzz.judge(data, status, body) == fuzz.OK


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 150_000 + b"]" * 150_000, "not JSON: RecursionError"),
        (b'{"a":' * 150_000 + b"1" + b"}" * 150_000, "not JSON: RecursionError"),
        (b"[" * 1_000_000 + b"]" * 1_000_000, "more than 200,000 JSON objects and arrays"),
        (b"[" * 1_000_000, "more than 200,000 JSON objects and arrays"),
        (b"\xff\xfe\x00", "not JSON"),
        (
            json.dumps(admission.review(admission.pod([GO]))).encode().replace(b"/api", b"/\xc3("),
            "not JSON: UnicodeDecodeError",
        ),
    ],
    ids=["lists", "objects", "lists-1M", "unclosed-1M", "utf16-bom", "invalid-utf8"],
)
def test_deep_nesting_and_invalid_utf8_are_400s(
    handler: AdmissionHandler, data: bytes, reason: str
) -> None:
    status, body = handler(data)
    assert status == 400
    assert reason in json.loads(body)["reason"]


def test_duplicate_keys_are_read_as_json_says_the_last_one_wins(
    handler: AdmissionHandler,
) -> None:
    data = json.dumps(admission.review(admission.pod([GO]), uid="second")).encode()
    data = data.replace(b'"uid": "second"', b'"uid": "first", "uid": "second"', 1)
    status, body = handler(data)
    assert status == 200
    assert json.loads(body)["response"]["uid"] == "second"
    assert json.loads(body)["response"]["allowed"] is False  # the image was still checked


# A JSON value of any shape (what ``json.loads`` can return).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
REQUEST_KEYS = st.sampled_from(
    ["uid", "kind", "operation", "object", "oldObject", "namespace", "name", "subResource"]
)


@st.composite
def envelopes(draw: st.DrawFn) -> object:
    """Mostly AdmissionReview-shaped values with arbitrary parts."""
    request = draw(st.dictionaries(REQUEST_KEYS, JSON, max_size=8))
    if draw(st.booleans()):
        request["uid"] = draw(st.text(min_size=1, max_size=20))
    if draw(st.booleans()):
        request["kind"] = {
            "group": "",
            "version": "v1",
            "kind": draw(st.sampled_from(["Pod", "Job"])),
        }
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    return draw(st.one_of(st.just(body), JSON))


@settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes())
def test_any_decoded_body_is_a_review_or_an_invalid_review(body: object) -> None:
    try:
        review = parse_review(body)
    except InvalidReview as exc:
        reason = str(exc)
    else:
        reason = ""
        assert isinstance(review.uid, str)
        assert review.uid
        assert isinstance(review.kind, str)
    assert reason or review  # an error always says why


@settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(body=envelopes(), raw=st.binary(max_size=200), as_bytes=st.booleans())
def test_any_body_gets_a_valid_answer_in_bounded_time(
    body: object, raw: bytes, as_bytes: bool
) -> None:
    engine = FakeEngine()
    app = create_app(WebhookSettings(), engine)
    try:
        found = app.extensions["slimgate"]["handler"]
        data = raw if as_bytes else json.dumps(body).encode()
        status, reply = found(data)
        assert fuzz.judge(data, status, reply) == fuzz.OK
    finally:
        app.extensions["slimgate"]["pool"].shutdown(wait=True)
