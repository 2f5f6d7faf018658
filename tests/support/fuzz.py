"""Mutated AdmissionReviews, and what a correct answer to any of them looks like.

:func:`mutations` turns valid reviews into a seeded stream of hostile bodies: fields
dropped, retyped or blown up, containers multiplied, bytes truncated or flipped, invalid
UTF-8, duplicate keys, deep nesting. :func:`judge` classifies the webhook's answer to one:

* ``5xx``: a server error (never acceptable);
* ``invalid``: an answer that is neither a 400 with a reason nor a well-formed
  AdmissionReview response (a bool ``allowed``, warnings of at most 120 characters without
  newlines, a status with a code and a message when denied);
* ``uid``: a review answer whose ``uid`` is not the request's;
* ``ok``.

Used by the webhook's unit tests (a sample) and ``bench/bench_fuzz.py`` (the long run).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator, Sequence
from typing import Any

from tests.support import admission

OK = "ok"
SERVER_ERROR = "5xx"
INVALID = "invalid"
UID_MISMATCH = "uid"

_ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**64,
    1.5e308,
    "",
    "x" * 10_000,
    "\u0000",
    "\u2028",
    [],
    [None],
    {},
    {"": None},
)


def seeds(images: Sequence[str]) -> list[dict[str, Any]]:
    """Valid reviews of every kind and operation the webhook reads."""
    first, *rest = images
    return [
        admission.review(admission.pod(list(images), init=[first], ephemeral=rest[:1])),
        admission.review(admission.pod([first]), dry_run=True),
        admission.ephemeral_update([first], rest[0] if rest else first),
        admission.review(
            admission.workload("Deployment", list(images)),
            operation="UPDATE",
            old=admission.workload("Deployment", [first]),
        ),
        admission.review(admission.workload("CronJob", list(images))),
        admission.review(admission.workload("Job", [first], pull_secrets=["regcred"])),
        admission.review({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}}),
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


BODY_CAP = 3 * 1024 * 1024  # the webhook's: some mutations land just over it


def _multiplied(rng: random.Random, document: dict[str, Any]) -> dict[str, Any]:
    """A list of ``document`` repeated up to a little over the body cap, never more (its
    copies share their items, so growing them afterwards would multiply again)."""
    doc = copy.deepcopy(document)
    lists = [p for p in _paths(doc) if p and isinstance(_parent(doc, p)[p[-1]], list)]
    lists = [p for p in lists if _parent(doc, p)[p[-1]]]
    if not lists:
        return doc
    path = rng.choice(lists)
    parent, key = _parent(doc, path), path[-1]
    size = len(json.dumps(parent[key], separators=(",", ":"))) + 1
    most = max(1, (BODY_CAP + 64 * 1024) // max(size, 1))
    parent[key] = parent[key] * rng.choice((2, 50, most))
    return doc


def _structural(rng: random.Random, document: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    parent, key = _parent(doc, path), path[-1]
    action = rng.randrange(6)
    if action == 0:  # drop it
        del parent[key]
    elif action == 1:  # another type
        parent[key] = copy.deepcopy(rng.choice(_ODD_VALUES))
    elif action == 2:  # nest it deeply (deeper still is a textual mutation)
        value: Any = parent[key]
        for _ in range(rng.choice((10, 50, 200))):
            value = [value] if rng.random() < 0.5 else {"a": value}
        parent[key] = value
    elif action == 3 and isinstance(parent[key], str):  # mangle a string
        text = parent[key]
        parent[key] = rng.choice(
            (text * 50, text[: len(text) // 2], text + "@sha256:" + "0" * 64, text.upper(), " ")
        )
    elif action == 4 and isinstance(parent, dict):  # a key nobody expects
        parent["x" * rng.randrange(1, 300)] = rng.choice(_ODD_VALUES)
    else:  # the uid, the field every answer must echo
        doc.setdefault("request", {})
        if isinstance(doc["request"], dict):
            doc["request"]["uid"] = rng.choice(("", "u" * 5000, 7, None, "ü-ñ", "a\nb"))
    return doc


def _textual(rng: random.Random, data: bytes) -> bytes:
    action = rng.randrange(6)
    at = rng.randrange(len(data))
    if action == 0:  # truncated
        return data[:at]
    if action == 1:  # a flipped byte
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
    if action == 2:  # invalid UTF-8
        return data[:at] + rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00")) + data[at:]
    if action == 3:  # a duplicate uid: JSON allows it, the last one wins
        return data.replace(b'"uid":', b'"uid":"first","uid":', 1)
    if action == 4:  # nesting to a million
        return b"[" * 1_000_000 + b"]" * rng.choice((0, 1_000_000))
    return data[:at] + rng.choice((b"{", b"}", b"[", b",", b'"', b"\\", b"1e99999")) + data[at:]


def mutations(documents: Sequence[dict[str, Any]], count: int, seed: int = 11) -> Iterator[bytes]:
    """``count`` hostile bodies made from ``documents``, the same for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        document = rng.choice(documents)
        for _ in range(rng.choice((1, 1, 2, 3))):
            document = _structural(rng, document)
        if rng.random() < 0.15:  # last, so nothing grows the shared copies again
            document = _multiplied(rng, document)
        data = json.dumps(document, separators=(",", ":")).encode()
        if rng.random() < 0.3:
            data = _textual(rng, data)
        yield data


def request_uid(data: bytes) -> str | None:
    """The uid the request carries, when it can be read as JSON at all."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    request = document.get("request") if isinstance(document, dict) else None
    uid = request.get("uid") if isinstance(request, dict) else None
    return uid if isinstance(uid, str) else None


_UNKNOWN = object()


def judge(data: bytes, status: int, body: bytes, uid: object = _UNKNOWN) -> str:
    """What the answer ``status``/``body`` to the request ``data`` is (see the module);
    ``uid`` is the request's (:func:`request_uid`), when it is known already."""
    if status >= 500:
        return SERVER_ERROR
    try:
        answer = json.loads(body)
    except ValueError:
        return INVALID
    if status == 400:
        ok = isinstance(answer, dict) and isinstance(answer.get("reason"), str)
        return OK if ok else INVALID
    if status != 200 or not isinstance(answer, dict):
        return INVALID
    if (answer.get("apiVersion"), answer.get("kind")) != ("admission.k8s.io/v1", "AdmissionReview"):
        return INVALID
    response = answer.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("allowed"), bool):
        return INVALID
    warnings = response.get("warnings", [])
    if not isinstance(warnings, list) or not all(
        isinstance(w, str) and len(w) <= 120 and "\n" not in w for w in warnings
    ):
        return INVALID
    if not response["allowed"]:
        status_field = response.get("status")
        if not (
            isinstance(status_field, dict)
            and isinstance(status_field.get("code"), int)
            and isinstance(status_field.get("message"), str)
        ):
            return INVALID
    if response.get("uid") != (request_uid(data) if uid is _UNKNOWN else uid):
        return UID_MISMATCH
    return OK
