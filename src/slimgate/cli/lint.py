"""``slimgate lint [Dockerfile]``: the same signatures, on the final stage, before a build.

The Dockerfile is read by :func:`slimgate.dockerfile.parse_dockerfile` and linted by
:func:`slimgate.analysis.dockerfile_lint.lint`; the decision goes through the same policy
as ``check``, so the outputs and exit codes are the same. Sizes are unknown before a build.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from slimgate.cli.outcome import ERROR, exit_code
from slimgate.errors import UsageError

PROG = "slimgate lint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from slimgate.cli.check import add_common_arguments

    parser.add_argument(
        "dockerfile", nargs="?", default="Dockerfile", help="the Dockerfile (default: ./Dockerfile)"
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--build-arg",
        action="append",
        metavar="KEY=VALUE",
        help="build argument for FROM lines, as docker build --build-arg (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from slimgate.analysis.dockerfile_lint import lint
    from slimgate.cli.check import render
    from slimgate.cli.wiring import build_evaluator, parse_pairs, parse_platforms
    from slimgate.dockerfile import parse_dockerfile
    from slimgate.evaluation import worst
    from slimgate.model import Subject
    from slimgate.settings import load_settings

    path = Path(args.dockerfile)
    try:
        settings = load_settings(args.config)
        platforms = parse_platforms(args.platform, settings)
        subject = Subject(namespace=args.namespace, labels=parse_pairs(args.label, "--label"))
        build_args = parse_pairs(args.build_arg, "--build-arg")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from exc
        dockerfile = parse_dockerfile(text, build_args)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return ERROR
    evaluator, router = build_evaluator(settings, lineage=False)
    router.close()
    name = str(args.dockerfile)
    per_platform = [
        evaluator.judge(name, subject, lint(dockerfile, platform), platform=platform)
        for platform in platforms
    ]
    result = worst(per_platform)
    if len(per_platform) > 1:
        from dataclasses import replace

        result = replace(result, per_platform=tuple(per_platform))
    render([result], args.output)
    return exit_code([result])
