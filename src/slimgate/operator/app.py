"""``slimgate operator``: the composition root of the audit operator.

Builds, from the command line and the configuration file: the engines
(:func:`slimgate.wiring.build_engines`, as every driver), a Kubernetes client, the auditor
with its report writer, event recorder and leader election, the Prometheus endpoint, and
the kopf registry; then runs kopf in the main thread (it owns the signals) and the audit loop in a
thread of its own. With ``registry.pullSecrets`` each workload's images are looked up with
its pods' pull secrets (``slimgate.cluster.pullsecrets``), read with the operator's own
Kubernetes configuration.

Two replicas are safe: they elect one writer through a ``coordination.k8s.io/v1`` Lease
(``--lease-name`` in ``--lease-namespace``); the other keeps its inventory warm and takes
over when the lease expires. ``--no-leader-election`` is for a single replica.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import threading
from collections.abc import Sequence
from functools import partial

import kopf
from kubernetes import client as k8s
from prometheus_client import start_http_server

from slimgate.cluster.api import KubeApi, kube_configuration
from slimgate.cluster.discovery import serves
from slimgate.cluster.nodes import KubernetesNodes, NodePlatforms
from slimgate.cluster.owners import CachedOwners
from slimgate.cluster.pullsecrets import PullSecrets
from slimgate.cluster.secrets import KubernetesSecrets
from slimgate.config import Settings, load_settings
from slimgate.errors import SlimgateError
from slimgate.operator.apis import ReportApis
from slimgate.operator.auditor import Auditor, AuditSettings, Leader
from slimgate.operator.events import EventRecorder
from slimgate.operator.handlers import build_registry, connection_info
from slimgate.operator.leader import AlwaysLeader, LeaseElector
from slimgate.operator.metrics import AuditMetrics
from slimgate.operator.writer import ReportWriter
from slimgate.reports.policyreport import Flavour
from slimgate.runtime import jsonlog
from slimgate.wiring import build_engines

log = logging.getLogger("slimgate.operator")

PULL_SECRET_TTL_SECONDS = 300.0  # a scan reads each namespace's secrets once, not per pod
PULL_SECRET_BUDGET_SECONDS = 10.0  # for one workload's secrets; no admission deadline here

REPORT_CHOICES = {
    "policyreport": (Flavour.POLICY_REPORT,),
    "openreports": (Flavour.OPEN_REPORTS,),
    "both": (Flavour.POLICY_REPORT, Flavour.OPEN_REPORTS),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="configuration file (default: built-in defaults)")
    parser.add_argument(
        "--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube/config)"
    )
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="speak plain HTTP to this registry (repeatable)",
    )
    parser.add_argument(
        "--reports",
        choices=sorted(REPORT_CHOICES),
        default="policyreport",
        help="write wgpolicyk8s.io PolicyReports, openreports.io Reports, or both",
    )
    parser.add_argument("--metrics-port", type=int, default=8080, help="0 turns metrics off")
    parser.add_argument("--metrics-address", default="0.0.0.0")  # noqa: S104 - a pod's port
    parser.add_argument(
        "--liveness", help="kopf liveness endpoint, e.g. http://0.0.0.0:8081/healthz"
    )
    parser.add_argument(
        "--interval",
        type=float,
        help="seconds between full re-scans (default: operator.intervalSeconds)",
    )
    parser.add_argument(
        "--debounce",
        type=float,
        default=2.0,
        help="quiet seconds before a changed namespace is written",
    )
    parser.add_argument("--max-results", type=int, default=2000, help="results per report at most")
    parser.add_argument(
        "--event-period",
        type=float,
        default=3600.0,
        help="one event per workload and image per this many seconds",
    )
    parser.add_argument(
        "--leader-election",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="elect one writer among replicas through a Lease (default: on)",
    )
    parser.add_argument("--lease-name", default="slimgate-operator")
    parser.add_argument(
        "--lease-duration", type=float, default=15.0, help="seconds before a standby takes over"
    )
    parser.add_argument("--lease-namespace", default=os.environ.get("POD_NAMESPACE", "slimgate"))
    parser.add_argument(
        "--identity",
        help="this replica's name in the Lease (default: host name and pid)",
    )
    parser.add_argument("--log-level", default="INFO")


def settings_from(settings: Settings, args: argparse.Namespace) -> AuditSettings:
    section = settings.operator
    return AuditSettings(
        interval=args.interval if args.interval is not None else section.interval_seconds,
        quiet=args.debounce,
        longest=max(30.0, args.debounce * 10),
        namespaces=section.namespaces,
        excluded=section.excluded_namespaces,
        workers=section.workers,
    )


def parse(argv: Sequence[str] | argparse.Namespace) -> argparse.Namespace:
    if isinstance(argv, argparse.Namespace):
        return argv
    parser = argparse.ArgumentParser(prog="slimgate operator", description=__doc__)
    add_arguments(parser)
    return parser.parse_args(list(argv))


def run(argv: Sequence[str] | argparse.Namespace) -> int:
    args = parse(argv)
    jsonlog.configure(str(args.log_level), loggers=("slimgate", "kopf"))
    metrics = AuditMetrics()
    reader: PullSecrets | None = None
    try:
        settings = load_settings(args.config)
        configuration, _ = kube_configuration(args.kubeconfig, args.context)
        if settings.registry.pull_secrets:
            # The pods' imagePullSecrets and their ServiceAccounts', as the kubelet pulls;
            # the chart grants the reads only when registry.pullSecrets is on.
            reader = PullSecrets(
                KubernetesSecrets(configuration=configuration),
                metrics.pull_secret_errors.inc,
                ttl=PULL_SECRET_TTL_SECONDS,
            )
        engines = build_engines(
            settings,
            observer=metrics.lookups,
            lineage="bounded",
            insecure=args.insecure_registry,
            pull_secrets=reader,
        )
    except SlimgateError as exc:
        if reader is not None:
            reader.close()
        log.error("%s", exc)
        return 2
    platforms = settings.registry.platforms
    nodes: NodePlatforms | None = None
    if settings.registry.node_platforms:
        nodes = NodePlatforms(KubernetesNodes(configuration))
        nodes.start()
    api = KubeApi(k8s.ApiClient(configuration))
    identity = args.identity or f"{socket.gethostname()}-{os.getpid()}"
    leader: Leader = (
        LeaseElector(
            api, args.lease_namespace, args.lease_name, identity, duration=args.lease_duration
        )
        if args.leader_election
        else AlwaysLeader()
    )
    auditor = Auditor(
        settings_from(settings, args),
        api=api,
        evaluate=engines.evaluate_audit(
            platforms, PULL_SECRET_BUDGET_SECONDS, nodes.allowed if nodes else None
        ),
        owners=CachedOwners(api),
        # no flavour until discovery says which of the configured ones are served
        writer=ReportWriter(api, (), max_results=args.max_results),
        events=EventRecorder(api, period=args.event_period, identity=identity),
        leader=leader,
        metrics=metrics,
        apis=ReportApis(partial(serves, api), REPORT_CHOICES[args.reports], metrics.report_apis),
    )
    server = None
    if args.metrics_port:
        server, _ = start_http_server(
            args.metrics_port, addr=args.metrics_address, registry=metrics.registry
        )
    stop = threading.Event()
    loop = threading.Thread(target=auditor.run, args=(stop,), name="slimgate-audit", daemon=True)
    loop.start()
    registry = build_registry(auditor, lambda: connection_info(configuration))
    log.info("slimgate operator %s starting (reports: %s)", identity, args.reports)
    try:
        kopf.run(
            registry=registry,
            clusterwide=True,
            standalone=True,
            liveness_endpoint=args.liveness,
        )
    finally:
        stop.set()
        loop.join(timeout=10)
        engines.close()
        if reader is not None:
            reader.close()
        if nodes is not None:
            nodes.close()
        if server is not None:
            server.shutdown()
    return 0
