"""The options of ``slimgate serve``, apart from the server so that defining them imports
neither Flask nor uvicorn."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``slimgate serve`` (and ``python -m slimgate.webhook.serve``)."""
    parser.add_argument("--config", "-c", metavar="FILE", help="configuration file (YAML)")
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0; --dev: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8443)")
    parser.add_argument("--tls-cert", metavar="PEM", help="server certificate chain")
    parser.add_argument("--tls-key", metavar="PEM", help="server private key")
    parser.add_argument(
        "--dev", action="store_true", help="local development: self-signed certificate, loopback"
    )
    parser.add_argument("--workers", type=int, help="server worker processes (default 1)")
    parser.add_argument(
        "--threads", type=int, help="reviews that wait on registries at once, per worker"
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="a request head must arrive within this (default 5); else 408 and close",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        metavar="N",
        help="open connections per worker (default 1000); more are closed at once",
    )
    self_managed = parser.add_argument_group(
        "self-managed TLS",
        "keep the CA and certificate in a Secret, renew them and set the caBundle (GitOps)",
    )
    self_managed.add_argument(
        "--tls-secret", metavar="NAMESPACE/NAME", help="Secret holding ca.crt, ca.key, tls.*"
    )
    self_managed.add_argument(
        "--webhook-configuration", metavar="NAME", help="ValidatingWebhookConfiguration to patch"
    )
    self_managed.add_argument(
        "--tls-dns-name", action="append", default=[], metavar="NAME", help="(repeatable)"
    )
    self_managed.add_argument(
        "--tls-dir", help="where the served pair is written (default: a new temporary folder)"
    )
    self_managed.add_argument("--tls-ca-days", type=int, default=1825)
    self_managed.add_argument("--tls-cert-days", type=int, default=365)
    self_managed.add_argument("--tls-renew-before-days", type=float, default=30.0)
    self_managed.add_argument("--tls-check-seconds", type=float, default=60.0)
    self_managed.add_argument("--kubeconfig", help="kubeconfig (default: in-cluster)")
