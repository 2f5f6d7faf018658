"""``slimgate serve``: the webhook app under gunicorn, over TLS, with keep-alive.

The worker is gunicorn's own ``asgi`` worker on uvloop (gunicorn 24 and later): one event
loop per process holds every connection open for ``keepalive`` seconds, since the apiserver
reuses its connections and a TLS handshake per review would waste most of the budget. It
serves :class:`slimgate.webhook.asgi.WebhookAsgi`, which answers ``POST /validate`` on the
loop and hands the other routes to the Flask app. Each worker process builds its own app
(``preload_app`` is off: thread pools and HTTP connection pools do not survive ``fork``), so
the registry caches, single-flight, decision memo and metrics are per process.

Why not the ``gthread`` worker. On a warm review it spent most of its time in Python-level
HTTP parsing and thread hand-offs: ``bench/bench_webhook.py`` measured 772 to 1,034
reviews/s for one ``gthread`` worker with 16 threads, and the same machine serves 2,000 or
more with one ``asgi`` worker (the README has the current figures).

Worker count. The default is one worker process. A warm review is CPU-bound on one core
(the GIL), and one worker already answers far above the pod-creation rate of most
clusters (tens per second in a large rollout). A second worker raises the warm ceiling
when the pod really has two cores, but it doubles the registry traffic and memory for
cold images (each worker has its own caches), and ``/metrics`` then shows whichever
process answered the scrape, so counters jump between scrapes. One worker per pod keeps
one cache and one coherent set of counters; throughput is scaled with pod replicas.
``--workers`` (or ``SLIMGATE_WEBHOOK_WORKERS``) overrides that. ``--threads`` (or
``SLIMGATE_WEBHOOK_THREADS``, default 16) bounds how many reviews of one worker may wait
on registries at the same time.

TLS. The certificate and key are served from a ``certificates.CertificateStore``
(gunicorn's ``ssl_context`` hook, plus an SNI callback): a renewed pair (cert-manager
renewing the mounted Secret) is picked up by new connections without restarting workers,
and a pair that does not load is ignored and logged while the last good one stays in
service.

``--dev`` serves on 127.0.0.1:8443 with a throwaway CA and certificate (see ``devcert``) and
prints a ready ``curl`` command with a sample AdmissionReview.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from slimgate.config import Config, load_config
from slimgate.errors import SlimgateError
from slimgate.webhook import jsonlog
from slimgate.webhook.app import create_app
from slimgate.webhook.asgi import WebhookAsgi
from slimgate.webhook.certificates import CertificateError, CertificateStore
from slimgate.webhook.devcert import write_dev_certificates
from slimgate.webhook.metrics import TlsCounters, WebhookMetrics
from slimgate.webhook.sample import sample_review
from slimgate.webhook.wiring import Composer

log = logging.getLogger("slimgate.webhook")

DEFAULT_PORT = 8443
KEEPALIVE_SECONDS = 75  # longer than the apiserver's idle connection timeout would reuse
DEFAULT_REVIEW_THREADS = 16  # reviews waiting on registries at once, per worker


def build_app(
    config_path: Path | None,
    config: Config,
    certificates: CertificateStore | None = None,
    review_threads: int = DEFAULT_REVIEW_THREADS,
) -> WebhookAsgi:
    """The composition root of one worker: metrics, registry client, engine, app."""
    jsonlog.configure(background=True)  # this worker's log writer thread
    metrics = WebhookMetrics()
    if certificates is not None:
        certificates.observe(TlsCounters(metrics))  # this worker's copy of the store
    composer = Composer(metrics)
    wiring = composer.build(config)
    app = create_app(
        wiring.settings,
        wiring.engine,
        engine_for=wiring.engine_for,
        config_path=config_path,
        rebuild=composer.build_from if config_path is not None else None,
        metrics=metrics,
        reload_in_background=True,
    )
    return WebhookAsgi(app, review_threads=review_threads)


class JsonGunicornLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's error log as JSON lines; the access log stays off (decisions are logged)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(jsonlog.JsonFormatter())
        jsonlog.configure()


class WebhookServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with settings from code, an app built in each worker."""

    def __init__(self, options: dict[str, Any], load: Callable[[], WebhookAsgi]) -> None:
        self._options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WebhookAsgi:
        return self._load()


def gunicorn_options(
    bind: str,
    cert: str,
    key: str,
    workers: int | None = None,
    certificates: CertificateStore | None = None,
) -> dict[str, Any]:
    workers = workers or int(os.environ.get("SLIMGATE_WEBHOOK_WORKERS", "1"))
    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "asgi",
        "asgi_loop": "uvloop",
        "asgi_lifespan": "on",
        "worker_connections": 1000,
        "keepalive": KEEPALIVE_SECONDS,
        "timeout": 60,
        "graceful_timeout": 20,
        "certfile": cert,
        "keyfile": key,
        "preload_app": False,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "slimgate-webhook",
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,  # noqa: S108
        "logger_class": JsonGunicornLogger,
        "control_socket_disable": True,
    }
    if certificates is not None:
        options["ssl_context"] = certificates.gunicorn_hook
    return options


def _dev_files(bind_host: str, port: int) -> tuple[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="slimgate-dev-"))
    certs = write_dev_certificates(folder)
    sample = folder / "sample.json"
    sample.write_text(json.dumps(sample_review(), indent=2) + "\n")
    print(f"slimgate dev mode: CA certificate {certs.ca}", file=sys.stderr)
    print(
        f"try: curl --cacert {certs.ca} -H 'Content-Type: application/json' "
        f"--data @{sample} https://{bind_host}:{port}/validate",
        file=sys.stderr,
    )
    return str(certs.cert), str(certs.key)


def run(args: Namespace) -> int:
    """Serve until stopped; 2 when the configuration or the TLS files are missing or bad."""
    config_arg = getattr(args, "config", None)
    config_path = Path(config_arg) if config_arg else None
    try:
        config = load_config(config_path)
    except SlimgateError as exc:
        print(f"slimgate serve: {exc}", file=sys.stderr)
        return 2
    dev = bool(getattr(args, "dev", False))
    host = getattr(args, "host", None) or ("127.0.0.1" if dev else "0.0.0.0")  # noqa: S104
    port = int(getattr(args, "port", None) or DEFAULT_PORT)
    cert, key = getattr(args, "tls_cert", None), getattr(args, "tls_key", None)
    if dev and not (cert and key):
        cert, key = _dev_files(host, port)
    if not (cert and key):
        print("slimgate serve: --tls-cert and --tls-key are required (or --dev)", file=sys.stderr)
        return 2
    for path in (cert, key):
        if not os.access(path, os.R_OK):
            print(f"slimgate serve: cannot read {path}", file=sys.stderr)
            return 2
    try:
        certificates = CertificateStore(Path(cert), Path(key))
    except CertificateError as exc:
        print(f"slimgate serve: certificate and key do not load: {exc}", file=sys.stderr)
        return 2
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    threads = getattr(args, "threads", None) or int(
        os.environ.get("SLIMGATE_WEBHOOK_THREADS", str(DEFAULT_REVIEW_THREADS))
    )
    options = gunicorn_options(bind, cert, key, getattr(args, "workers", None), certificates)
    server = WebhookServer(
        options, lambda: build_app(config_path, config, certificates, review_threads=threads)
    )
    server.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m slimgate.webhook.serve``: the same as ``slimgate serve``."""
    import argparse

    parser = argparse.ArgumentParser(prog="slimgate serve")
    parser.add_argument("--config")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--dev", action="store_true")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
