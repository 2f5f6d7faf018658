"""``slimgate lint [Dockerfile...]``: the same signatures, on the final stage, before a build.

The Dockerfile is read by :func:`slimgate.sources.dockerfile.parse_dockerfile` and linted by
:func:`slimgate.analysis.dockerfile_lint.lint`; the decision goes through the same policy
as ``check``, so the outputs and exit codes are the same. Sizes are unknown before a build.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from slimgate.cli.outcome import ERROR, exit_code, report_errors
from slimgate.errors import TooComplex, UsageError

if TYPE_CHECKING:
    from slimgate.analysis.dockerfile_model import Dockerfile
    from slimgate.analysis.findings import Analysis
    from slimgate.model import Platform

PROG = "slimgate lint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from slimgate.cli.check import add_common_arguments
    from slimgate.cli.options import add_dockerfile_arguments

    add_dockerfile_arguments(parser)
    add_common_arguments(parser)


def read_dockerfile(path: Path, limit: int) -> str:
    """The text of ``path``; :class:`TooComplex` past ``limit`` characters (only that much
    is read), :class:`UsageError` when it cannot be read."""
    try:
        with path.open(encoding="utf-8") as file:
            text = file.read(limit + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if len(text) > limit:
        raise TooComplex(f"the Dockerfile is longer than {limit:,} characters")
    return text


def run(args: argparse.Namespace) -> int:
    from slimgate.analysis.complexity import too_complex
    from slimgate.analysis.dockerfile_lint import lint
    from slimgate.cli.check import render
    from slimgate.cli.options import parse_pairs, parse_platforms
    from slimgate.config import load_settings
    from slimgate.evaluation import worst
    from slimgate.model import Subject
    from slimgate.sources.dockerfile import MAX_CHARS, parse_dockerfile
    from slimgate.wiring import build_engines

    paths = [Path(name) for name in args.dockerfile]
    # per file: the parsed Dockerfile, or why it is too complex to read
    read: list[tuple[Path, Dockerfile | None, str | None]] = []
    texts: dict[Path, str] = {}
    try:
        settings = load_settings(args.config)
        platforms = parse_platforms(args.platform, settings)
        subject = Subject(namespace=args.namespace, labels=parse_pairs(args.label, "--label"))
        build_args = parse_pairs(args.build_arg, "--build-arg")
        for path in paths:
            try:
                texts[path] = read_dockerfile(path, MAX_CHARS)
                read.append((path, parse_dockerfile(texts[path], build_args), None))
            except TooComplex as exc:
                read.append((path, None, str(exc)))
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return ERROR
    # The engine check runs, reading nothing: a Dockerfile's analysis is judged by its policy.
    evaluator = build_engines(settings, observer=None, lineage="off", connect="never").shared
    limits = evaluator.knowledge.limits

    def analysis(
        dockerfile: Dockerfile | None, unreadable: str | None, platform: Platform
    ) -> Analysis:
        if dockerfile is None:
            return too_complex(unreadable or "unreadable", 0)
        return lint(dockerfile, platform, limits=limits, clock=time.thread_time)

    results = []
    for path, dockerfile, unreadable in read:
        per_platform = [
            evaluator.judge(
                str(path), subject, analysis(dockerfile, unreadable, platform), platform=platform
            )
            for platform in platforms
        ]
        results.append(worst(per_platform))
    render(results, args.output)
    report_errors(results, PROG, sys.stderr)
    from slimgate.policy.decision import Verdict

    for (path, dockerfile, _), result in zip(read, results, strict=True):
        if dockerfile is not None and result.decision.verdict is not Verdict.ALLOW:
            print(f"{PROG}: {path}: {fix_hint(path, dockerfile, texts[path])}", file=sys.stderr)
    return exit_code(results)


def fix_hint(path: Path, dockerfile: Dockerfile, text: str) -> str:
    """What ``slimgate fix`` would do for this Dockerfile, asked of the same planner, so
    the hint never promises a fix that ``fix`` then refuses."""
    from slimgate.cli.fix_files import DirectoryFiles
    from slimgate.fix import Status, plan_fix

    planned = plan_fix(dockerfile, text, DirectoryFiles(path.parent))
    if planned.status is Status.FIXED:
        return f"`slimgate fix {path}` writes the multi-stage build"
    return f"`slimgate fix` writes no fix for it: {planned.message}"
