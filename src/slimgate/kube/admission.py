"""AdmissionReview ``admission.k8s.io/v1`` as the apiserver sends it, and its validation.

The shapes follow the Kubernetes API reference for ``AdmissionReview``/``AdmissionRequest``/
``AdmissionResponse`` (https://kubernetes.io/docs/reference/access-authn-authz/
extensible-admission-controllers/#request). The answer stays raw JSON typed as a
``TypedDict``; :func:`parse_review` checks the parts of a request slimgate relies on, keeps
them as a :class:`Review`, and turns the rest of the world's mistakes into
:class:`InvalidReview` with a reason, so a driver can answer 400 instead of crashing.

Pure: no framework, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from slimgate.errors import InvalidReview

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"


class Operation(StrEnum):
    """``request.operation``: the four operations an admission webhook can be sent."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    CONNECT = "CONNECT"


class Status(TypedDict, total=False):
    code: int
    reason: str
    message: str


class AdmissionResponse(TypedDict):
    uid: str
    allowed: bool
    status: NotRequired[Status]
    warnings: NotRequired[list[str]]


class AdmissionReviewResponse(TypedDict):
    apiVersion: str
    kind: str
    response: AdmissionResponse


@dataclass(frozen=True, slots=True)
class Review:
    """The parts of a validated request the webhook acts on."""

    uid: str
    group: str
    version: str
    kind: str
    operation: Operation
    sub_resource: str
    namespace: str
    name: str
    dry_run: bool
    object: Mapping[str, Any] | None
    old_object: Mapping[str, Any] | None


def parse_review(body: object) -> Review:
    """Validate a decoded JSON body as an AdmissionReview v1 request.

    Raises :class:`InvalidReview` naming the first problem found.
    """
    if not isinstance(body, dict):
        raise InvalidReview("body is not a JSON object")
    if body.get("apiVersion") != API_VERSION:
        raise InvalidReview(f"apiVersion must be {API_VERSION}, got {body.get('apiVersion')!r}")
    if body.get("kind") != KIND:
        raise InvalidReview(f"kind must be {KIND}, got {body.get('kind')!r}")
    request = body.get("request")
    if not isinstance(request, dict):
        raise InvalidReview("request is missing or not an object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise InvalidReview("request.uid is missing or not a string")
    kind = request.get("kind")
    if not isinstance(kind, dict) or not isinstance(kind.get("kind"), str):
        raise InvalidReview("request.kind is missing or not a GroupVersionKind", uid=uid)
    operation = request.get("operation")
    if not isinstance(operation, str):
        raise InvalidReview("request.operation is missing or not a string", uid=uid)
    if operation not in Operation.__members__:
        raise InvalidReview(f"request.operation {operation[:40]!r} is not an operation", uid=uid)
    obj = _optional_object(request, "object", uid)
    old = _optional_object(request, "oldObject", uid)
    namespace = _optional_str(request, "namespace", uid)
    name = _optional_str(request, "name", uid)
    sub_resource = _optional_str(request, "subResource", uid)
    dry_run = request.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise InvalidReview("request.dryRun is not a boolean", uid=uid)
    return Review(
        uid=uid,
        group=str(kind.get("group") or ""),
        version=str(kind.get("version") or ""),
        kind=kind["kind"],
        operation=Operation(operation),
        sub_resource=sub_resource,
        namespace=namespace,
        name=name,
        dry_run=dry_run,
        object=obj,
        old_object=old,
    )


def _optional_object(request: Mapping[str, Any], key: str, uid: str) -> Mapping[str, Any] | None:
    value = request.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise InvalidReview(f"request.{key} is not an object", uid=uid)


def _optional_str(request: Mapping[str, Any], key: str, uid: str) -> str:
    value = request.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise InvalidReview(f"request.{key} is not a string", uid=uid)
