"""The Flask app factory: the webhook's composition root for one serving process.

``create_app`` wires settings, the engine, the thread pool, metrics and the config watcher
into a new Flask app; nothing is created at import. Endpoints:

- ``POST /validate``: AdmissionReview ``admission.k8s.io/v1`` in, AdmissionReview out;
  anything unreadable gets a 400 with a reason, never a 500;
- ``GET /healthz``: the process answers; ``GET /readyz``: a configuration is loaded;
- ``GET /metrics``: Prometheus text format from the app's own registry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import RequestEntityTooLarge

from slimgate.config import WebhookSettings
from slimgate.evaluation import Evaluator
from slimgate.webhook.handler import AdmissionHandler
from slimgate.webhook.lookups import LookupPool
from slimgate.webhook.memo import DecisionMemo
from slimgate.webhook.metrics import WebhookMetrics
from slimgate.webhook.reload import ConfigWatcher
from slimgate.webhook.review import EngineFor, PlatformsFor, Reviewer

log = logging.getLogger("slimgate.webhook")

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Wiring:
    """What one configuration generation serves with."""

    settings: WebhookSettings
    engine: Evaluator
    engine_for: EngineFor | None = None  # per-request engines that know pull secrets
    platforms_for: PlatformsFor | None = None  # registry.platforms: auto


Rebuild = Callable[[Path], Wiring]


def create_app(
    settings: WebhookSettings,
    evaluator: Evaluator,
    *,
    engine_for: EngineFor | None = None,
    platforms_for: PlatformsFor | None = None,
    config_path: Path | None = None,
    rebuild: Rebuild | None = None,
    metrics: WebhookMetrics | None = None,
    pool_size: int = 32,
    clock: Callable[[], float] = time.monotonic,
    reload_in_background: bool = False,
) -> Flask:
    """Build the webhook app.

    With ``config_path`` and ``rebuild`` the file is watched and reloaded when it changes;
    with ``reload_in_background`` (the served app, whose reviews run on an event loop) the
    reload runs on a thread of its own instead of in the request that noticed the change.
    """
    metrics = metrics or WebhookMetrics()
    pool = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="slimgate-image")
    lookups = LookupPool(pool, settings.lookups_per_registry, pool_size)

    def reviewer_for(wiring: Wiring) -> Reviewer:
        lookups.resize(wiring.settings.lookups_per_registry)
        return Reviewer(
            wiring.settings,
            wiring.engine,
            lookups,
            engine_for=wiring.engine_for,
            platforms_for=wiring.platforms_for,
            memo=DecisionMemo(ttl=wiring.settings.memo_seconds, clock=clock),
            clock=clock,
        )

    first = reviewer_for(Wiring(settings, evaluator, engine_for, platforms_for))
    watcher: ConfigWatcher[Reviewer] | None = None
    if config_path is not None and rebuild is not None:
        watcher = ConfigWatcher(
            config_path,
            first,
            lambda path: reviewer_for(rebuild(path)),
            metrics,
            interval=settings.reload_interval_seconds,
            clock=clock,
            background=(
                ThreadPoolExecutor(1, thread_name_prefix="slimgate-reload")
                if reload_in_background
                else None
            ),
        )

    def current() -> Reviewer:
        return watcher.poll() if watcher is not None else first

    app = Flask("slimgate.webhook")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    handler = AdmissionHandler(current, metrics, clock, limit=settings.max_body_bytes)
    app.extensions["slimgate"] = {"pool": pool, "lookups": lookups, "handler": handler}

    @app.post("/validate")
    def validate() -> Response:
        try:
            data: bytes | None = request.get_data(cache=False)
        except RequestEntityTooLarge:
            data = None
        status, body = handler(data)
        return Response(body, status=status, mimetype=JSON)

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
