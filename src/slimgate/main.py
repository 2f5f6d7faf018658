"""The ``slimgate`` command: argument parsing and dispatch to the drivers.

Subcommands: ``check``, ``lint`` and ``fix`` (:mod:`slimgate.cli`), ``serve`` (the admission
webhook, :mod:`slimgate.webhook.serve`), ``operator`` (:mod:`slimgate.operator.app`) and
``audit`` (:mod:`slimgate.cli.audit`). Every driver is imported only when its subcommand
runs, so ``slimgate check`` never loads Flask, kopf or the Kubernetes client. A driver
module that exposes ``add_arguments(parser)`` defines its own options; it is imported for
that only when its subcommand is the one given.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from slimgate import __version__
from slimgate.errors import DriverUnavailable
from slimgate.webhook import options as serve_options

USAGE_ERROR = 2

# subcommand -> (module, help); the module has run(args) -> int
DRIVERS: dict[str, tuple[str, str]] = {
    "check": (
        "slimgate.cli.check",
        "decide about images (registry, oci:, oci-archive:, docker-archive:)",
    ),
    "lint": ("slimgate.cli.lint", "decide about a Dockerfile's final stage before building"),
    "fix": ("slimgate.cli.fix", "rewrite a single-stage Dockerfile as a multi-stage build"),
    "serve": ("slimgate.webhook.serve", "run the validating admission webhook (HTTPS)"),
    "operator": ("slimgate.operator.app", "run the audit operator (PolicyReports)"),
    "audit": ("slimgate.cli.audit", "audit the workloads running in a cluster"),
}


def _load(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (
            module_name == exc.name or module_name.startswith(exc.name + ".")
        ):
            raise DriverUnavailable(module_name) from exc
        raise


def _passthrough(parser: argparse.ArgumentParser) -> None:
    """A driver without ``add_arguments`` gets its arguments as ``args.argv``, unparsed."""
    parser.set_defaults(passthrough=True)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; the options of ``command``'s driver are loaded when it has its own."""
    parser = argparse.ArgumentParser(
        prog="slimgate",
        description="Keep single-stage toolchain images out of Kubernetes clusters.",
    )
    parser.add_argument("--version", action="version", version=f"slimgate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in DRIVERS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        adder: Callable[[argparse.ArgumentParser], None] | None = None
        if name == "serve":
            adder = serve_options.add_arguments
        elif name == command:
            try:
                adder = getattr(_load(module_name), "add_arguments", None)
            except DriverUnavailable:
                adder = None
            adder = adder or _passthrough
        if adder is not None:
            adder(sub)
    return parser


def _command_of(argv: Sequence[str]) -> tuple[str | None, int]:
    """The subcommand given and its position (the first argument not an option)."""
    for position, arg in enumerate(argv):
        if not arg.startswith("-"):
            return (arg if arg in DRIVERS else None), position
    return None, len(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the subcommand, return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command, position = _command_of(args_list)
    parser = build_parser(command)
    args, extra = parser.parse_known_args(args_list)
    if getattr(args, "passthrough", False):
        args.argv = args_list[position + 1 :]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    module_name = DRIVERS[args.command][0]
    try:
        module = _load(module_name)
    except DriverUnavailable:
        print(
            f"slimgate {args.command}: not available in this installation "
            f"({module_name} is missing)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    run: Callable[[argparse.Namespace], int] = module.run
    try:
        return int(run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
