"""AdmissionReview v1 responses: allow, allow with warnings, deny.

Follows the Kubernetes admission webhook response contract
(https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
#response): the request's ``uid`` is always echoed; a denial carries ``status.code`` and a
``status.message`` that ``kubectl`` shows after "admission webhook ... denied the request:".
Warnings are shown by ``kubectl`` as ``Warning: <text>``; the apiserver asks for at most 120
characters each, no ``Warning:`` prefix and no newline, which :func:`warning_line` enforces.
"""

from __future__ import annotations

from collections.abc import Iterable

from slimgate.kube.admission import (
    API_VERSION,
    KIND,
    AdmissionResponse,
    AdmissionReviewResponse,
    Status,
)

MAX_WARNING = 120
MAX_WARNINGS = 16  # the apiserver truncates beyond a few KiB; more helps nobody
MAX_MESSAGE = 4096  # a denial message longer than this is cut with an ellipsis


def warning_line(text: str, limit: int = MAX_WARNING) -> str:
    """One warning: newlines folded into spaces, ``Warning:`` stripped, cut to ``limit``.

    Warnings travel as HTTP ``Warning`` headers, so a cut line ends in ASCII ``...``.
    """
    line = " ".join(text.split())
    if line.lower().startswith("warning:"):
        line = line[len("warning:") :].lstrip()
    if len(line) > limit:
        line = line[: limit - 3].rstrip() + "..."
    return line


def _review(response: AdmissionResponse, warnings: Iterable[str]) -> AdmissionReviewResponse:
    """``response`` with its distinct warnings, at most :data:`MAX_WARNINGS` of them."""
    unique = list(dict.fromkeys(warning_line(line) for line in warnings if line.strip()))
    if len(unique) > MAX_WARNINGS:
        rest = len(unique) - (MAX_WARNINGS - 1)
        unique = [*unique[: MAX_WARNINGS - 1], f"slimgate: {rest} more warnings not shown"]
    if unique:
        response["warnings"] = unique
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def allow(uid: str, warnings: Iterable[str] = ()) -> AdmissionReviewResponse:
    return _review({"uid": uid, "allowed": True}, warnings)


def deny(
    uid: str,
    message: str,
    *,
    code: int = 403,
    reason: str = "Forbidden",
    warnings: Iterable[str] = (),
) -> AdmissionReviewResponse:
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    status: Status = {"code": code, "reason": reason, "message": message}
    return _review({"uid": uid, "allowed": False, "status": status}, warnings)


def rejected(uid: str, message: str) -> AdmissionReviewResponse:
    """A review we could not read, answered as a 400 denial so the apiserver shows why."""
    return deny(uid, message, code=400, reason="BadRequest")
