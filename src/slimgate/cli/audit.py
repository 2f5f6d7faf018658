"""``slimgate audit``: a one-shot audit of what runs in a cluster, with its bloat cost.

Lists pods (of the cluster, or of ``--namespace``) and their owners once, groups the pods
under their top-level owners, evaluates each image once with the engine every driver uses
(progress on stderr), and prints a table per namespace, the top offenders with what their
remediations save, and the bloat cost per namespace and in total — or the same as JSON or
as one self-contained HTML page (``--output``, ``--output-file``). Images are read with the
static credentials of the configuration; ``--pull-secrets`` also reads each workload's
pull secrets with the caller's kubeconfig.

Exit codes: 0 done; 2 the cluster or the configuration could not be read.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slimgate.audit.auditing import Evaluate, audit_workloads, plan
from slimgate.audit.inventory import group_workloads
from slimgate.audit.owners import OwnerLookup, top_owner
from slimgate.audit.results import Evaluated
from slimgate.audit.summary import AuditSummary, summarize
from slimgate.audit.workloads import PodRecord
from slimgate.errors import SlimgateError
from slimgate.kube.placement import Placement
from slimgate.kube.workloads import PullAccess
from slimgate.model import Subject

OUTPUTS = ("table", "json", "html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--namespace", "-n", help="audit only this namespace")
    parser.add_argument("--config", "-c", metavar="FILE", help="configuration file (YAML)")
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="speak plain HTTP to this registry (repeatable)",
    )
    parser.add_argument("--output", "-o", choices=OUTPUTS, default="table")
    parser.add_argument("--output-file", metavar="FILE", help="write the report here, not stdout")
    parser.add_argument("--top", type=_count, default=10, help="offenders to list (default 10)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument(
        "--pull-secrets",
        action="store_true",
        help="read each workload's imagePullSecrets and its ServiceAccount's with this "
        "kubeconfig, to audit private images as their pods pull them (needs get on secrets)",
    )


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def audit_pods(
    pods: Iterable[PodRecord],
    owners: OwnerLookup,
    evaluate: Evaluate,
    *,
    generated: datetime,
    cluster: str | None = None,
    excluded: Sequence[str] = (),
    workers: int = 4,
    top: int | None = 10,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> AuditSummary:
    """Pods to a summary: group by owner, evaluate each image once per subject that exemptions
    or credentials can tell apart, total the cost."""
    kept = [p for p in pods if not any(fnmatch.fnmatchcase(p.namespace, x) for x in excluded)]
    workloads = group_workloads(kept, lambda pod: top_owner(pod, owners))
    advance = progress(len(plan(workloads))) if progress else None

    def counted(
        image: str, subject: Subject, access: PullAccess | None, placement: Placement
    ) -> Evaluated:
        result = evaluate(image, subject, access, placement)
        if advance is not None:
            advance()
        return result

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="slimgate-audit") as pool:
        audits = audit_workloads(workloads, counted, map_=pool.map)
    return summarize(audits, generated=generated, cluster=cluster, top=top)


def render(summary: AuditSummary, output: str, stream: Any, *, colour: bool) -> None:
    if output == "json":
        from slimgate.reports.jsonreport import audit_document

        json.dump(audit_document(summary), stream, indent=2)
        stream.write("\n")
    elif output == "html":
        from slimgate.reports.html import render_html

        stream.write(render_html(summary))
    else:
        from rich.console import Console

        from slimgate.reports.table import print_tables

        console = Console(file=stream, width=160 if not colour else None, no_color=not colour)
        print_tables(summary, console)


def _progress_bar(enabled: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("evaluating images"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not enabled,
    )


PULL_SECRET_BUDGET_SECONDS = 10.0  # per workload: one attempt per secret, no retries
PULL_SECRET_TTL_SECONDS = 3600.0  # one audit reads each secret once


def run(argv: Sequence[str] | argparse.Namespace) -> int:
    if isinstance(argv, argparse.Namespace):
        args = argv
    else:
        parser = argparse.ArgumentParser(prog="slimgate audit", description=__doc__)
        add_arguments(parser)
        args = parser.parse_args(list(argv))
    from kubernetes import client as k8s

    from slimgate.cluster.api import KubeApi, kube_configuration
    from slimgate.cluster.owners import read_cluster
    from slimgate.config import load_settings
    from slimgate.wiring import build_engines

    reader = None
    try:
        settings = load_settings(args.config)
        configuration, cluster = kube_configuration(args.kubeconfig, args.context)
        with k8s.ApiClient(configuration) as api_client:
            pods, owners = read_cluster(KubeApi(api_client, timeout=60.0), args.namespace)
        if args.pull_secrets:  # read with the caller's kubeconfig
            from slimgate.cluster.pullsecrets import PullSecrets
            from slimgate.cluster.secrets import KubernetesSecrets

            secrets = KubernetesSecrets(configuration=configuration)
            reader = PullSecrets(secrets, ttl=PULL_SECRET_TTL_SECONDS)
        engines = build_engines(
            settings,
            observer=None,
            lineage="bounded",
            insecure=args.insecure_registry,
            pull_secrets=reader,
        )
    except SlimgateError as exc:
        if reader is not None:
            reader.close()
        print(f"slimgate audit: {exc}", file=sys.stderr)
        return 2
    platforms = settings.registry.platforms
    evaluate = engines.evaluate_audit(platforms, PULL_SECRET_BUDGET_SECONDS)
    excluded = () if args.namespace else tuple(settings.operator.excluded_namespaces)
    show = not args.no_progress and sys.stderr.isatty()
    with _progress_bar(show) as bar:

        def progress(total: int) -> Callable[[], None]:
            task = bar.add_task("evaluate", total=total)
            return lambda: bar.advance(task)

        try:
            summary = audit_pods(
                pods,
                owners,
                evaluate,
                generated=datetime.now(UTC),
                cluster=cluster,
                excluded=excluded,
                workers=settings.operator.workers,
                top=args.top,
                progress=progress,
            )
        finally:
            engines.close()
            if reader is not None:
                reader.close()
    if args.output_file:
        try:
            with Path(args.output_file).open("w", encoding="utf-8") as stream:
                render(summary, args.output, stream, colour=False)
        except OSError as exc:
            print(f"slimgate audit: cannot write {args.output_file}: {exc}", file=sys.stderr)
            return 2
    else:
        render(summary, args.output, sys.stdout, colour=sys.stdout.isatty())
    return 0
