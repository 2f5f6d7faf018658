"""``slimgate serve``: the webhook app under uvicorn, over TLS, with keep-alive.

The server is uvicorn with its ``httptools`` HTTP/1.1 parser on uvloop: one event loop per
process holds every connection open for ``KEEPALIVE_SECONDS``, since the apiserver reuses
its connections and a TLS handshake per review would waste most of the budget. It serves
:class:`slimgate.webhook.asgi.WebhookAsgi`, which answers ``POST /validate`` on the loop and
hands the other routes to the Flask app. What one connection may cost (a deadline for the
request head and the TLS handshake, a cap on open connections) is
:mod:`slimgate.webhook.connections`; the body's deadline is the ASGI front's.

Why uvicorn. ``bench/bench_servers.py`` measured the candidates in one run (the README has
the table): gunicorn's own ``asgi`` worker, which served before, keeps every client-closed
keep-alive TLS connection alive until a full garbage collection and its memory is never
returned (70 → 303 MB after 20,000 connections; ``bench/upstream/`` has the report);
uvicorn and granian stay flat. Of the two, uvicorn answered more reviews per second with
less CPU per review on this machine, and it keeps TLS in Python's ``ssl``, so a renewed
certificate is served by the running process (below) where granian, whose TLS is rustls
inside the worker, would have to respawn workers.

Each worker process builds its own app: thread pools and HTTP connection pools do not
survive ``fork``, so the registry caches, single-flight, decision memo and metrics are per
process.

Worker count. The default is one worker process. A warm review is CPU-bound on one core
(the GIL), and one worker already answers far above the pod-creation rate of most
clusters (tens per second in a large rollout). A second worker raises the warm ceiling
when the pod really has two cores, but it doubles the registry traffic and memory for
cold images (each worker has its own caches), and ``/metrics`` then shows whichever
process answered the scrape, so counters jump between scrapes. One worker per pod keeps
one cache and one coherent set of counters; throughput is scaled with pod replicas.
``--workers`` (or ``SLIMGATE_WEBHOOK_WORKERS``) overrides that: uvicorn's supervisor then
starts that many processes on one listening socket. ``--threads`` (or
``SLIMGATE_WEBHOOK_THREADS``, default 16) bounds how many reviews of one worker may wait
on registries at the same time.

TLS. The certificate and key are served from a ``certificates.CertificateStore`` (uvicorn's
``ssl_context_factory``, plus an SNI callback): a renewed pair (cert-manager renewing the
mounted Secret) is picked up by new connections without restarting anything, and a pair
that does not load is ignored and logged while the last good one stays in service.

Shutdown. On SIGTERM uvicorn stops accepting, closes idle connections, lets requests in
flight finish (at most ``GRACEFUL_SECONDS``) and then runs the app's lifespan shutdown.

``--dev`` serves on 127.0.0.1:8443 with a throwaway CA and certificate (see ``devcert``) and
prints a ready ``curl`` command with a sample AdmissionReview.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import ssl
import sys
import tempfile
import threading
from argparse import ArgumentParser, Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from uvicorn import Server
from uvicorn.supervisors import Multiprocess

from slimgate.cluster.api import KubeApi, kube_configuration
from slimgate.config import Settings, load_settings
from slimgate.errors import CertificateError, SlimgateError, UsageError
from slimgate.runtime import jsonlog
from slimgate.runtime.certificates import CertificateStore
from slimgate.runtime.devcert import write_dev_certificates
from slimgate.webhook.app import create_app
from slimgate.webhook.asgi import WebhookAsgi
from slimgate.webhook.certkeeper import CertificateKeeper, KeeperSettings, parse_names
from slimgate.webhook.connections import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    BoundedHttpProtocol,
    LimitedConfig,
)
from slimgate.webhook.generations import Composer
from slimgate.webhook.metrics import TlsCounters, WebhookMetrics
from slimgate.webhook.options import add_arguments
from slimgate.webhook.sample import sample_review
from slimgate.wiring import RegistryFactory, registry_client

log = logging.getLogger("slimgate.webhook")

DEFAULT_PORT = 8443
KEEPALIVE_SECONDS = 75  # longer than the apiserver's idle connection timeout would reuse
DEFAULT_REVIEW_THREADS = 16  # reviews waiting on registries at once, per worker
GRACEFUL_SECONDS = 20  # requests in flight at SIGTERM get this long to finish
BACKLOG = 1024


def build_app(
    config_path: Path | None,
    settings: Settings,
    certificates: CertificateStore | None = None,
    review_threads: int = DEFAULT_REVIEW_THREADS,
    registry: RegistryFactory = registry_client,
) -> WebhookAsgi:
    """The composition root of one worker: metrics, registry client, engine, app."""
    jsonlog.configure(background=True)  # this worker's log writer thread
    metrics = WebhookMetrics()
    if certificates is not None:
        certificates.observe(TlsCounters(metrics))  # this worker's copy of the store
    composer = Composer(metrics, registry=registry)
    wiring = composer.build(settings)
    app = create_app(
        wiring.settings,
        wiring.engine,
        engine_for=wiring.engine_for,
        platforms_for=wiring.platforms_for,
        config_path=config_path,
        rebuild=composer.build_from if config_path is not None else None,
        metrics=metrics,
        reload_in_background=True,
    )
    return WebhookAsgi(app, review_threads=review_threads, body_timeout=wiring.settings.deadline)


def certificate_context(config: Any, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's ``ssl_context_factory``: this process's :class:`CertificateStore`."""
    store = CertificateStore(Path(config.ssl_certfile), Path(config.ssl_keyfile))
    config.certificates = store
    return store.context()


class WebhookConfig(LimitedConfig):
    """uvicorn's settings for ``slimgate serve``; ``load_app`` builds this process's app.

    It is pickled into each worker process when there are several, so it carries paths,
    numbers and the registry client's factory (which must pickle) only; the store and the
    app are made in the process that serves.
    """

    def __init__(
        self,
        *,
        slimgate_config: str | None,
        review_threads: int,
        registry: RegistryFactory = registry_client,
        **kwargs: Any,
    ) -> None:
        super().__init__("slimgate.webhook.serve:WebhookConfig", **kwargs)
        self.slimgate_config = slimgate_config
        self.review_threads = review_threads
        self.registry = registry
        self.certificates: CertificateStore | None = None

    def configure_logging(self) -> None:
        """uvicorn calls this in the parent and again in each worker it starts."""
        super().configure_logging()
        _json_server_logs()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["certificates"] = None  # made again in each process (it holds an SSLContext)
        return state

    def load_app(self) -> Callable[[], WebhookAsgi]:
        def build() -> WebhookAsgi:
            path = Path(self.slimgate_config) if self.slimgate_config else None
            return build_app(
                path,
                load_settings(path),
                self.certificates,
                self.review_threads,
                registry=self.registry,
            )

        return build


def server_config(
    host: str,
    port: int,
    cert: str,
    key: str,
    *,
    config_path: Path | None = None,
    workers: int | None = None,
    threads: int = DEFAULT_REVIEW_THREADS,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    registry: RegistryFactory = registry_client,
) -> WebhookConfig:
    workers = workers or int(os.environ.get("SLIMGATE_WEBHOOK_WORKERS", "1"))
    return WebhookConfig(
        slimgate_config=str(config_path) if config_path is not None else None,
        review_threads=threads,
        registry=registry,
        header_timeout=header_timeout,
        max_connections=max_connections,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="slimgate.webhook.connections:new_event_loop",
        http=BoundedHttpProtocol,
        ws="none",
        lifespan="on",
        interface="asgi3",
        timeout_keep_alive=KEEPALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        backlog=BACKLOG,
        ssl_certfile=cert,
        ssl_keyfile=key,
        ssl_context_factory=certificate_context,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        access_log=False,
        log_config=None,
    )


def _json_server_logs() -> None:
    """uvicorn's own log lines (start, stop, errors) as JSON on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(jsonlog.JsonFormatter())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler] if name == "uvicorn" else []
        logger.setLevel(logging.INFO)
        logger.propagate = name != "uvicorn"
    logging.getLogger("uvicorn.access").disabled = True


def serve(config: WebhookConfig) -> None:
    """Run uvicorn until it is stopped: in this process, or under its supervisor."""
    jsonlog.configure()
    if config.workers > 1:
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
    else:
        Server(config).run()


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


def run(args: Namespace, registry: RegistryFactory = registry_client) -> int:
    """Serve until stopped; 2 when the configuration or the TLS files are missing or bad.

    ``registry`` makes each worker's registry client (``slimgate serve`` always passes the
    real one; a test's launcher may give it a resolver of its own)."""
    config_arg = getattr(args, "config", None)
    config_path = Path(config_arg) if config_arg else None
    header_timeout = getattr(args, "header_timeout", None)
    max_connections = getattr(args, "max_connections", None)
    dev = bool(getattr(args, "dev", False))
    host = getattr(args, "host", None) or ("127.0.0.1" if dev else "0.0.0.0")  # noqa: S104
    port = int(getattr(args, "port", None) or DEFAULT_PORT)
    cert, key = getattr(args, "tls_cert", None), getattr(args, "tls_key", None)
    keeper: CertificateKeeper | None = None
    try:  # everything is refused here, before a worker starts
        load_settings(config_path)
        if header_timeout is not None and not 0 < header_timeout <= 300:
            raise UsageError("--header-timeout must be above 0 and at most 300")
        if max_connections is not None and max_connections < 1:
            raise UsageError("--max-connections must be at least 1")
        if getattr(args, "tls_secret", None):
            keeper = self_managed_keeper(args)
            keeper.ensure_within(SELF_MANAGED_START_SECONDS)
            cert, key = str(keeper.settings.cert_path), str(keeper.settings.key_path)
        if dev and not (cert and key):
            cert, key = _dev_files(host, port)
        if not (cert and key):
            raise UsageError("--tls-cert and --tls-key are required (or --dev)")
        for path in (cert, key):
            if not os.access(path, os.R_OK):
                raise UsageError(f"cannot read {path}")
        try:
            CertificateStore(Path(cert), Path(key))
        except CertificateError as exc:
            raise UsageError(f"certificate and key do not load: {exc}") from exc
    except SlimgateError as exc:
        print(f"slimgate serve: {exc}", file=sys.stderr)
        return 2
    threads = getattr(args, "threads", None) or int(
        os.environ.get("SLIMGATE_WEBHOOK_THREADS", str(DEFAULT_REVIEW_THREADS))
    )
    stop = threading.Event()
    if keeper is not None:
        threading.Thread(
            target=keeper.run, args=(stop,), name="slimgate-certificates", daemon=True
        ).start()
    try:
        serve(
            server_config(
                host,
                port,
                cert,
                key,
                config_path=config_path,
                workers=getattr(args, "workers", None),
                threads=threads,
                header_timeout=header_timeout or DEFAULT_HEADER_TIMEOUT,
                max_connections=max_connections or DEFAULT_MAX_CONNECTIONS,
                registry=registry,
            )
        )
    finally:
        stop.set()
    return 0


SELF_MANAGED_START_SECONDS = 60.0


def self_managed_keeper(args: Namespace) -> CertificateKeeper:
    """The certificate keeper of ``--tls-secret`` (self-managed TLS), from the arguments."""
    namespace, _, name = str(args.tls_secret).partition("/")
    configuration_name = getattr(args, "webhook_configuration", None)
    names = parse_names(getattr(args, "tls_dns_name", None) or [])
    if not (namespace and name and configuration_name and names):
        raise SlimgateError(
            "--tls-secret NAMESPACE/NAME needs --webhook-configuration and at least one "
            "--tls-dns-name"
        )
    configuration, _ = kube_configuration(getattr(args, "kubeconfig", None), None)
    settings = KeeperSettings(
        namespace=namespace,
        secret=name,
        webhook_configuration=configuration_name,
        dns_names=names,
        directory=Path(getattr(args, "tls_dir", None) or tempfile.mkdtemp(prefix="slimgate-tls-")),
        ca_days=int(getattr(args, "tls_ca_days", 1825)),
        cert_days=int(getattr(args, "tls_cert_days", 365)),
        renew_before=datetime.timedelta(days=float(getattr(args, "tls_renew_before_days", 30))),
        check_seconds=float(getattr(args, "tls_check_seconds", 60)),
    )
    return CertificateKeeper(KubeApi(k8s.ApiClient(configuration)), settings)


def main(argv: list[str] | None = None) -> int:
    """``python -m slimgate.webhook.serve``: the same as ``slimgate serve``."""
    parser = ArgumentParser(prog="slimgate serve")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
