"""Command-line values the CLI commands share: ``--platform``, ``KEY=VALUE`` options and
the Dockerfiles of lint and fix."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from slimgate.model import Platform

if TYPE_CHECKING:
    from slimgate.config import Settings


def parse_platforms(texts: Sequence[str] | None, settings: Settings) -> tuple[Platform, ...]:
    """``--platform`` values (deduplicated, in order), else the configured platforms."""
    if not texts:
        return settings.registry.platforms
    return tuple(dict.fromkeys(Platform.parse(text) for text in texts))


def parse_pairs(texts: Sequence[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` option values (``--label``, ``--build-arg``) as a mapping."""
    from slimgate.errors import UsageError

    labels: dict[str, str] = {}
    for text in texts or ():
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid {option} {text!r}: expected KEY=VALUE")
        labels[key] = value
    return labels


def add_dockerfile_arguments(parser: argparse.ArgumentParser) -> None:
    """The Dockerfiles to read and their ``--build-arg`` values (lint and fix)."""
    parser.add_argument(
        "dockerfile",
        nargs="*",
        default=["Dockerfile"],
        help="the Dockerfiles (default: ./Dockerfile)",
    )
    parser.add_argument(
        "--build-arg",
        action="append",
        metavar="KEY=VALUE",
        help="build argument for FROM lines, as docker build --build-arg (repeatable)",
    )
