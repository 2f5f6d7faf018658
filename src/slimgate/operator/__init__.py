"""The audit operator: kopf watches pods, an auditor writes PolicyReports per namespace.

``run(argv)`` is the entry point ``slimgate operator`` dispatches to; see
:mod:`slimgate.operator.app`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def run(argv: Sequence[str] | argparse.Namespace) -> int:
    from slimgate.operator.app import run as run_operator

    return run_operator(argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from slimgate.operator.app import add_arguments as add

    add(parser)
