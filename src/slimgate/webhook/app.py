"""The Flask app factory: the webhook's composition root for one serving process.

``create_app`` wires settings, the engine, the thread pool, metrics and the config watcher
into a new Flask app; nothing is created at import. Endpoints:

- ``POST /validate``: AdmissionReview ``admission.k8s.io/v1`` in, AdmissionReview out;
  anything unreadable gets a 400 with a reason, never a 500;
- ``GET /healthz``: the process answers; ``GET /readyz``: a configuration is loaded;
- ``GET /metrics``: Prometheus text format from the app's own registry.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import RequestEntityTooLarge

from slimgate.kube import responses
from slimgate.kube.admission import InvalidReview, parse_review
from slimgate.webhook.endpoint import ValidateEndpoint
from slimgate.webhook.engine import Engine
from slimgate.webhook.memo import DecisionMemo
from slimgate.webhook.metrics import WebhookMetrics
from slimgate.webhook.reload import ConfigWatcher
from slimgate.webhook.review import EngineFor, Outcome, Reviewer
from slimgate.webhook.settings import WebhookSettings

log = logging.getLogger("slimgate.webhook")

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Wiring:
    """What one configuration generation serves with."""

    settings: WebhookSettings
    engine: Engine
    engine_for: EngineFor | None = None  # per-request engines that know pull secrets


Rebuild = Callable[[Path], Wiring]


def create_app(
    settings: WebhookSettings | Any,
    evaluator: Engine,
    *,
    engine_for: EngineFor | None = None,
    config_path: Path | None = None,
    rebuild: Rebuild | None = None,
    metrics: WebhookMetrics | None = None,
    pool_size: int = 32,
    clock: Callable[[], float] = time.monotonic,
) -> Flask:
    """Build the webhook app.

    ``settings`` is :class:`WebhookSettings` or the validated configuration object.
    With ``config_path`` and ``rebuild`` the file is watched and reloaded when it changes.
    """
    hook = (
        settings if isinstance(settings, WebhookSettings) else WebhookSettings.from_config(settings)
    )
    metrics = metrics or WebhookMetrics()
    pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="slimgate-image")

    def reviewer_for(wiring: Wiring) -> Reviewer:
        return Reviewer(
            wiring.settings,
            wiring.engine,
            pool,
            engine_for=wiring.engine_for,
            memo=DecisionMemo(ttl=wiring.settings.memo_seconds, clock=clock),
            clock=clock,
        )

    first = reviewer_for(Wiring(hook, evaluator, engine_for))
    watcher: ConfigWatcher[Reviewer] | None = None
    if config_path is not None and rebuild is not None:
        watcher = ConfigWatcher(
            config_path,
            first,
            lambda path: reviewer_for(rebuild(path)),
            metrics,
            interval=hook.reload_interval_seconds,
            clock=clock,
        )

    def current() -> Reviewer:
        return watcher.poll() if watcher is not None else first

    app = Flask("slimgate.webhook")
    app.config["MAX_CONTENT_LENGTH"] = hook.max_body_bytes
    app.extensions["slimgate"] = {"metrics": metrics, "pool": pool, "watcher": watcher}

    def handle(data: bytes | None) -> tuple[int, bytes]:
        started = clock()
        reviewer = current()
        if data is None:
            limit = reviewer.settings.max_body_bytes
            return _bad_request(metrics, f"request body is larger than {limit} bytes")
        try:
            body = json.loads(data)
        except (ValueError, RecursionError) as exc:
            return _bad_request(metrics, f"body is not JSON: {exc.__class__.__name__}: {exc}")
        try:
            review = parse_review(body)
        except InvalidReview as exc:
            if exc.uid is None:
                return _bad_request(metrics, str(exc))
            metrics.invalid.inc()
            log.warning(
                "invalid admission review", extra={"fields": {"uid": exc.uid, "reason": str(exc)}}
            )
            return 200, _dump(responses.rejected(exc.uid, str(exc)))
        try:
            outcome = reviewer.review(review, started)
        except Exception as exc:
            # The reviewer gives images it could not evaluate the onRegistryError decision
            # itself; this is only reached when the object could not be understood at all.
            log.exception("review failed", extra={"fields": {"uid": review.uid}})
            metrics.requests.labels("error", "error", review.kind).inc()
            return 200, _dump(
                responses.allow(
                    review.uid, [f"slimgate could not check this object: {exc.__class__.__name__}"]
                )
            )
        _record(metrics, outcome, clock() - started)
        return 200, _dump(outcome.response)

    @app.post("/validate")
    def validate() -> Response:  # reached only if the endpoint below is bypassed
        try:
            data: bytes | None = request.get_data(cache=False)
        except RequestEntityTooLarge:
            data = None
        status, body = handle(data)
        return Response(body, status=status, mimetype=JSON)

    app.wsgi_app = ValidateEndpoint(  # type: ignore[method-assign]
        handle, app.wsgi_app, lambda: current().settings.max_body_bytes
    )

    @app.get("/healthz")
    def healthz() -> Response:
        current()
        return Response("ok\n", mimetype="text/plain")

    @app.get("/readyz")
    def readyz() -> Response:
        current()
        return Response("ready\n", mimetype="text/plain")

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        current()
        return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

    return app


def _dump(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _bad_request(metrics: WebhookMetrics, reason: str) -> tuple[int, bytes]:
    metrics.invalid.inc()
    log.warning("bad request", extra={"fields": {"reason": reason[:300]}})
    return 400, _dump({"error": "bad request", "reason": reason[:1000]})


def _record(metrics: WebhookMetrics, outcome: Outcome, seconds: float) -> None:
    child = metrics.child
    child(metrics.requests, outcome.decision, outcome.enforced, outcome.kind).inc()
    child(metrics.duration, outcome.kind).observe(seconds)
    if outcome.late:
        metrics.deadline.inc(len(outcome.late))
    images = []
    for item in outcome.checked:
        decision = item.result.decision
        child(metrics.images, str(decision.verdict)).inc()
        for decided in decision.findings:
            child(metrics.findings, decided.finding.rule, str(decided.action)).inc()
        images.append(
            {
                "path": item.container.path,
                "image": item.container.image,
                "decision": str(decision.verdict),
                "enforced": str(decision.enforced),
                "rules": [d.finding.rule for d in decision.findings],
                **({"error": item.result.error} if item.result.error else {}),
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
    if outcome.skipped:
        fields["skipped"] = outcome.skipped
    if outcome.late:
        fields["deadlineExceeded"] = list(outcome.late)
    log.info("admission decision", extra={"fields": fields})
