"""``POST /validate`` without the HTTP server: body bytes in, status and JSON bytes out.

The work is split where waiting starts. ``begin`` parses the AdmissionReview and answers
everything that needs CPU only: bad input, skipped objects and reviews whose images are
all in the decision memo (the warm path). What it cannot answer it hands back as
:class:`Begun`, and ``complete`` finishes it with registry and Kubernetes API lookups,
which block. The ASGI front runs ``begin`` on its event loop and ``complete`` on a thread
pool; the Flask route and tests simply call the handler.

Anything unreadable gets a 400 with a reason, never a 500; a review that can be read but
not understood gets a valid AdmissionReview answer (the apiserver needs one).

The decision log line names at most :data:`LOGGED_IMAGES` containers and says how many
there were: one line for a Pod of 90,000 containers was 61 MB.

Parsing is the one cost that grows with the body, and ``json.loads`` holds the interpreter
for the whole parse, on whichever thread it runs (the ASGI front parses large bodies on a
review thread, but the loop that answers ``/healthz`` still waits for the interpreter). A
3 MiB body of tiny objects and arrays took 0.6 to 0.9 s to parse in a serving worker, three
quarters of it in garbage collections that the new objects set off over the whole heap. So
a body with more than :data:`MAX_JSON_CONTAINERS` ``{`` and ``[`` (counted in the bytes,
strings included: cheap, and an upper bound) is refused before parsing, and the collector
is paused while a body is parsed (the parse makes no cycles to collect).
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slimgate.errors import InvalidReview
from slimgate.kube import responses
from slimgate.kube.admission import Review, parse_review
from slimgate.webhook.messages import Checked
from slimgate.webhook.metrics import WebhookMetrics
from slimgate.webhook.review import AdmissionAnswer, Outcome, Pending, Reviewer

log = logging.getLogger("slimgate.webhook")

Answer = tuple[int, bytes]  # HTTP status, JSON body
LOGGED_IMAGES = 20  # containers named in one decision log line; the rest are counted
# JSON objects and arrays in one body. A Pod of 1,000 containers with ordinary specs has a
# few tens of thousands; 3 MiB of empty arrays has a million.
MAX_JSON_CONTAINERS = 200_000


@dataclass(frozen=True, slots=True)
class Begun:
    """A review that needs lookups: what ``complete`` continues with."""

    reviewer: Reviewer
    pending: Pending  # carries the review and when it started


class AdmissionHandler:
    """Answers AdmissionReview bodies with the reviewer of the current configuration."""

    def __init__(
        self,
        current: Callable[[], Reviewer],
        metrics: WebhookMetrics,
        clock: Callable[[], float] = time.monotonic,
        *,
        limit: int,
    ) -> None:
        self._current = current
        self._metrics = metrics
        self._clock = clock
        self.limit = limit  # the largest body accepted, in bytes (not reloadable)

    def __call__(self, data: bytes | None) -> Answer:
        """The whole answer; blocks while images are looked up."""
        begun = self.begin(data)
        return self.complete(begun) if isinstance(begun, Begun) else begun

    def begin(self, data: bytes | None) -> Answer | Begun:
        """The answer when it needs no lookups, else what ``complete`` needs.

        ``data`` is the body, or None when it was larger than :attr:`limit`.
        """
        started = self._clock()
        reviewer = self._current()
        if data is None:
            return self._bad_request(f"request body is larger than {self.limit} bytes")
        if data.count(b"{") + data.count(b"[") > MAX_JSON_CONTAINERS:
            return self._bad_request(
                f"body has more than {MAX_JSON_CONTAINERS:,} JSON objects and arrays"
            )
        try:
            body = _parse(data)
        except (ValueError, RecursionError) as exc:
            return self._bad_request(f"body is not JSON: {exc.__class__.__name__}: {exc}")
        try:
            review = parse_review(body)
        except InvalidReview as exc:
            if exc.uid is None:
                return self._bad_request(str(exc))
            self._metrics.invalid.inc()
            log.warning(
                "invalid admission review", extra={"fields": {"uid": exc.uid, "reason": str(exc)}}
            )
            return 200, _dump(responses.rejected(exc.uid, str(exc)))
        try:
            outcome = reviewer.begin(review, started)
        except Exception as exc:  # noqa: BLE001 - logged and answered in _failed
            return self._failed(review, exc)
        if isinstance(outcome, Pending):
            return Begun(reviewer, outcome)
        return self._answered(outcome, started)

    def complete(self, begun: Begun) -> Answer:
        """Look up what ``begin`` could not answer and answer; blocks on I/O."""
        pending = begun.pending
        try:
            outcome = begun.reviewer.finish(pending)
        except Exception as exc:  # noqa: BLE001 - logged and answered in _failed
            return self._failed(pending.review, exc)
        return self._answered(outcome, pending.start)

    def _answered(self, outcome: Outcome, started: float) -> Answer:
        _record(self._metrics, outcome, self._clock() - started)
        return 200, _dump(outcome.response)

    def _failed(self, review: Review, exc: Exception) -> Answer:
        # The reviewer gives images it could not evaluate the onRegistryError decision
        # itself; this is only reached when the object could not be understood at all.
        log.error(
            "review failed",
            exc_info=exc,
            extra={"fields": {"uid": review.uid}},
        )
        self._metrics.requests.labels(
            AdmissionAnswer.ERROR, AdmissionAnswer.ERROR, review.kind
        ).inc()
        message = f"slimgate could not check this object: {exc.__class__.__name__}"
        return 200, _dump(responses.allow(review.uid, [message]))

    def _bad_request(self, reason: str) -> Answer:
        self._metrics.invalid.inc()
        log.warning("bad request", extra={"fields": {"reason": reason[:300]}})
        return 400, _dump({"error": "bad request", "reason": reason[:1000]})


def _parse(data: bytes) -> Any:
    """``json.loads`` with the garbage collector paused (see the module docstring)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return json.loads(data)
    finally:
        if collecting:
            gc.enable()


def _dump(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _notes(item: Checked) -> tuple[str, ...]:
    metadata = item.result.metadata
    return metadata.notes if metadata is not None else ()


def _record(metrics: WebhookMetrics, outcome: Outcome, seconds: float) -> None:
    child = metrics.child
    child(metrics.requests, outcome.decision, outcome.enforced, outcome.kind).inc()
    child(metrics.duration, outcome.kind).observe(seconds)
    if outcome.late:
        metrics.deadline.inc(len(outcome.late))
    images: list[dict[str, Any]] = []
    for item in outcome.checked:
        decision = item.result.decision
        child(metrics.images, str(decision.verdict)).inc()
        for decided in decision.findings:
            child(metrics.findings, decided.finding.rule, str(decided.action)).inc()
        if len(images) == LOGGED_IMAGES:
            continue
        images.append(
            {
                "path": item.container.path,
                "image": item.container.image,
                "decision": str(decision.verdict),
                "enforced": str(decision.enforced),
                "rules": [d.finding.rule for d in decision.findings],
                **({"error": item.result.error} if item.result.error else {}),
                **({"notes": list(notes)} if (notes := _notes(item)) else {}),
            }
        )
    fields: dict[str, Any] = {
        "uid": outcome.response["response"]["uid"],
        "kind": outcome.kind,
        "namespace": outcome.namespace,
        "name": outcome.name,
        "operation": outcome.operation,
        "dryRun": outcome.dry_run,
        "decision": outcome.decision,
        "enforced": outcome.enforced,
        "images": images,
        "durationSeconds": round(seconds, 6),
    }
    if len(outcome.checked) > len(images):
        fields["imageCount"] = len(outcome.checked)
        fields["imagesNotLogged"] = len(outcome.checked) - len(images)
    excess = outcome.excess
    if excess is not None:
        child(metrics.images, str(excess.verdict)).inc(excess.count)
        fields["unchecked"] = {
            "count": excess.count,
            "reason": excess.reason,
            "decision": str(excess.verdict),
        }
    if outcome.skipped:
        fields["skipped"] = outcome.skipped
    if outcome.late:
        fields["deadlineExceeded"] = list(outcome.late[:LOGGED_IMAGES])
        if len(outcome.late) > LOGGED_IMAGES:
            fields["deadlineExceededCount"] = len(outcome.late)
    log.info("admission decision", extra={"fields": fields})
