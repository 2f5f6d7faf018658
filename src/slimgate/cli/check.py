"""``slimgate check IMAGE...``: the webhook's decision about images, from a terminal or CI.

IMAGE is a registry reference or ``oci:PATH[:REF]``, ``oci-archive:PATH[:REF]``,
``docker-archive:PATH[:REF]``. Only manifests and configs are read.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slimgate.cli.outcome import ERROR, exit_code, report_errors
from slimgate.errors import UsageError

if TYPE_CHECKING:
    from slimgate.evaluation import Evaluator, ImageResult
    from slimgate.model import Platform, Subject

PROG = "slimgate check"
CONCURRENCY = 8  # images evaluated at once


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options ``check`` and ``lint`` share."""
    parser.add_argument(
        "--output", "-o", choices=("table", "json"), default="table", help="output format"
    )
    parser.add_argument("--config", "-c", metavar="FILE", help="configuration file (YAML)")
    parser.add_argument(
        "--platform",
        action="append",
        metavar="OS/ARCH[/VARIANT]",
        help="platform to evaluate (repeatable; the worst decision wins); "
        "default: registry.platforms from the configuration",
    )
    parser.add_argument(
        "--namespace",
        metavar="NS",
        help="decide as for a pod in this namespace (modes, exemptions)",
    )
    parser.add_argument(
        "--label",
        action="append",
        metavar="KEY=VALUE",
        help="decide as for a pod with this label (repeatable; for exemptions)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image to check")
    add_common_arguments(parser)
    parser.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="registry spoken to over plain HTTP, which may be on a loopback or private "
        "address (repeatable)",
    )
    parser.add_argument(
        "--lineage",
        choices=("auto", "on", "off"),
        default="auto",
        help="resolve the known toolchain images to recognise bases by layer digests "
        "(auto: only when a registry image is checked)",
    )


def run(args: argparse.Namespace) -> int:
    from slimgate.cli.options import parse_pairs, parse_platforms
    from slimgate.config import load_settings
    from slimgate.model import Subject
    from slimgate.sources.references import is_local
    from slimgate.wiring import build_engines

    lineage = args.lineage == "on" or (
        args.lineage == "auto" and not all(is_local(image) for image in args.images)
    )
    lineage_log = logging.getLogger("slimgate.lineage")
    if args.lineage != "on":
        # A known toolchain image the registry cannot give is no news unless asked for:
        # the other signals still recognise the base.
        lineage_log.setLevel(logging.ERROR)
    try:
        settings = load_settings(args.config)
        platforms = parse_platforms(args.platform, settings)
        subject = Subject(namespace=args.namespace, labels=parse_pairs(args.label, "--label"))
        engines = build_engines(
            settings,
            observer=None,
            lineage="bounded" if lineage else "off",
            connect="lazy",
            local_sources=True,
            insecure=args.insecure_registry,
        )
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return ERROR
    try:
        results = evaluate_all(engines.shared, args.images, subject, platforms)
    finally:
        # Look-ups still running in the background are abandoned with the client.
        lineage_log.disabled = True
        engines.close()
    render(results, args.output)
    report_errors(results, PROG, sys.stderr)
    from slimgate.analysis.rules import FIX_HINT
    from slimgate.policy.decision import Verdict

    acted_on = [r for r in results if r.decision.verdict is not Verdict.ALLOW]
    if any(r.decision.multi_stage_fixes for r in acted_on):
        print(f"{PROG}: {FIX_HINT}", file=sys.stderr)
    return exit_code(results)


def evaluate_all(
    evaluator: Evaluator, images: Sequence[str], subject: Subject, platforms: Sequence[Platform]
) -> list[ImageResult]:
    """Each image's result, in the order given; lookups overlap when there are several.

    An image whose evaluation fails unexpectedly gets the ``onRegistryError`` result with
    the failure as its error, like any image that cannot be read: never a traceback.
    """

    def evaluate(image: str) -> ImageResult:
        try:
            return evaluator.evaluate(image, subject, platforms)
        except Exception as exc:  # noqa: BLE001 - reported as this image's error
            reason = f"evaluation failed: {type(exc).__name__}: {exc}"
            return evaluator.unreadable(image, subject, reason, platforms[0])

    if len(images) == 1:
        return [evaluate(images[0])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(images))) as pool:
        return list(pool.map(evaluate, images))


def render(results: Sequence[ImageResult], output: str) -> None:
    """Print ``results`` on stdout as ``output`` (json or table)."""
    if output == "json":
        from slimgate.cli.output_json import render_json

        print(render_json(results))
    else:
        from slimgate.cli.output_table import render_table

        render_table(results, sys.stdout)
