"""``slimgate fix [Dockerfile...]``: write the multi-stage Dockerfile the analysis asks for.

Prints a unified diff from today's Dockerfile to the fixed one (the estimate in its
header), or with ``--write`` replaces the file, keeping the original as ``Dockerfile.orig``
unless ``--no-backup``. ``--output json`` prints the new text, the stages and the
estimate (an array of such objects for several Dockerfiles). The file is replaced by
writing a temporary file next to it and renaming it over the original, so an interrupted
write never leaves half a Dockerfile.

Exit codes: 0 a fix was written or printed, or nothing needed fixing (the message says
which); 2 no safe fix (what is missing and which flag passes it are on stderr), or the
Dockerfile cannot be read or parsed.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from slimgate.errors import UsageError

PROG = "slimgate fix"
OK = 0
ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from slimgate.cli.options import add_dockerfile_arguments

    add_dockerfile_arguments(parser)
    parser.add_argument(
        "--write", action="store_true", help="rewrite the Dockerfile in place (keeps .orig)"
    )
    parser.add_argument(
        "--no-backup", action="store_true", help="with --write: do not keep Dockerfile.orig"
    )
    parser.add_argument(
        "--output", "-o", choices=("diff", "json"), default="diff", help="diff (default) or json"
    )
    parser.add_argument(
        "--artifact", metavar="PATH", help="the file the build writes (binary, jar, dll)"
    )
    parser.add_argument(
        "--output-dir", metavar="DIR", help="the directory the build writes (dist, .output, ...)"
    )
    parser.add_argument(
        "--start", metavar="COMMAND", help="the start command, as a JSON array or a command line"
    )
    parser.add_argument(
        "--context",
        metavar="DIR",
        help="the build context (default: the Dockerfile's directory)",
    )


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(f"cannot read {path}: no such file") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: a temporary file in the same directory, then rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(OSError):  # a new file keeps mkstemp's 0600
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _parts(parts: Any) -> list[dict[str, Any]]:
    return [{"label": p.label, "size": p.size, "source": p.source} for p in parts]


def _as_json(path: Path, result: Any) -> dict[str, Any]:
    estimate = result.estimate
    return {
        "dockerfile": str(path),
        "status": str(result.status),
        "message": result.message,
        "ecosystem": result.ecosystem,
        "framework": result.framework,
        "text": result.text,
        "stages": [{"name": s.name, "base": s.base, "purpose": s.purpose} for s in result.stages],
        "estimate": None
        if estimate is None
        else {
            "text": estimate.text,
            "before": estimate.before_total,
            "after": estimate.after_total,
            "before_parts": _parts(estimate.before),
            "after_parts": _parts(estimate.after),
            "not_counted": list(estimate.not_counted),
        },
        "notes": list(result.notes),
        "missing": [
            {"what": m.what, "flag": m.flag, "why": m.why, "example": m.example}
            for m in result.missing
        ],
    }


def header(result: Any) -> list[str]:
    """The lines printed above the diff: what was done and the estimate."""
    from slimgate.fix.model import approximate

    lines = [f"# slimgate fix: {result.message}"]
    estimate = result.estimate
    if estimate is not None:
        before = " + ".join(f"{p.label} {approximate(p.size)}" for p in estimate.before)
        after = " + ".join(f"{p.label} {approximate(p.size)}" for p in estimate.after)
        lines.append(f"# estimate (compressed): {estimate.text}")
        lines.append(f"#   today:  {before}")
        lines.append(f"#   fixed:  {after}")
        lines.append(f"#   not counted: {'; '.join(estimate.not_counted)}")
    lines.extend(f"# note: {note}" for note in result.notes)
    return lines


def render_diff(name: str, text: str, result: Any) -> str:
    """The header and the unified diff from ``text`` to the fixed text (``patch -p0`` applies
    it from the directory the name is relative to)."""
    diff = difflib.unified_diff(
        text.removeprefix("\ufeff").splitlines(keepends=True),
        result.text.removeprefix("\ufeff").splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    return "\n".join(header(result)) + "\n" + "".join(diff)


def run(args: argparse.Namespace) -> int:
    documents: list[dict[str, Any]] = []
    codes = [fix_one(Path(name), args, documents) for name in args.dockerfile]
    if args.output == "json":
        print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
    return max(codes, default=OK)


def fix_one(path: Path, args: argparse.Namespace, documents: list[dict[str, Any]]) -> int:
    from slimgate.cli.fix_files import DirectoryFiles
    from slimgate.cli.options import parse_pairs
    from slimgate.fix import FixOptions, Status, plan_fix
    from slimgate.sources.dockerfile import parse_dockerfile

    try:
        build_args = parse_pairs(args.build_arg, "--build-arg")
        if path.is_dir():
            raise UsageError(f"{path} is a directory: name the Dockerfile")
        text = _read(path)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return ERROR
    try:
        dockerfile = parse_dockerfile(text, build_args)
    except UsageError as exc:
        print(f"{PROG}: {path}: {exc}", file=sys.stderr)
        return ERROR
    context = Path(args.context) if args.context else path.parent
    options = FixOptions(artifact=args.artifact, output_dir=args.output_dir, start=args.start)
    result = plan_fix(dockerfile, text, DirectoryFiles(context), options)
    if args.output == "json":
        documents.append(_as_json(path, result))
    if result.status is not Status.FIXED or result.text is None:
        print(f"{PROG}: {path}: {result.message}", file=sys.stderr)
        return ERROR if result.status is Status.CANNOT else OK
    if args.output == "diff" and not args.write:
        sys.stdout.write(render_diff(str(path), text, result))
    if args.write:
        try:
            if not args.no_backup:
                write_atomically(path.with_name(path.name + ".orig"), text)
            write_atomically(path, result.text)
        except OSError as exc:
            print(f"{PROG}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return ERROR
        backup = "" if args.no_backup else f" (the original is {path.name}.orig)"
        print(f"{PROG}: wrote {path}{backup}: {result.message}", file=sys.stderr)
    return OK
