#!/usr/bin/env python3
"""Release steps that must agree with each other: the version, the stamp, the notes.

The release workflow (.github/workflows/release.yml) runs these on a version tag, and the
tests run the same commands on a copy of the tree:

    python3 scripts/release.py version v1.2.3        prints 1.2.3, or refuses the tag
    python3 scripts/release.py stamp v1.2.3 [--image-digest sha256:...] [--root DIR]
    python3 scripts/release.py notes v1.2.3 [--changelog FILE]

``stamp`` writes the version into its one source, ``src/slimgate/__init__.py`` (the package
metadata reads it from there, and ``slimgate --version`` prints it), into the chart's
``version`` and ``appVersion``, and, given the digest the image was pushed with, pins the
chart's default image to it. ``notes`` prints the CHANGELOG.md section of a released version.

Standard library only: the release jobs run it with the runner's python3, before any
virtual environment exists. Every refusal is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_INIT = Path("src/slimgate/__init__.py")
CHART_YAML = Path("chart/slimgate/Chart.yaml")
CHART_VALUES = Path("chart/slimgate/values.yaml")
IMAGE = "ghcr.io/slimgate/slimgate"

# Releases are MAJOR.MINOR.PATCH, the subset on which SemVer 2 (Helm's chart versions),
# PEP 440 (the Python package) and image tags all read the same string the same way.
_VERSION = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_RELEASE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ReleaseError(Exception):
    """A release step cannot go on; the message says why."""


def version_of(tag: str) -> str:
    """The version a tag ``vX.Y.Z`` (or a bare ``X.Y.Z``) names."""
    version = tag.removeprefix("v")
    if not _VERSION.fullmatch(version):
        raise ReleaseError(
            f"{tag!r} is not a release tag: expected vMAJOR.MINOR.PATCH, e.g. v1.2.3"
        )
    return version


@dataclass(frozen=True)
class Edit:
    """One line of one file, found by a pattern that must match exactly once."""

    path: Path
    pattern: re.Pattern[str]
    replacement: Callable[[re.Match[str]], str]


def _apply(root: Path, edits: Sequence[Edit]) -> list[Path]:
    """Apply every edit, or none: all files are read and checked before one is written."""
    texts: dict[Path, str] = {}
    for edit in edits:
        path = root / edit.path
        if path not in texts:
            try:
                texts[path] = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ReleaseError(f"cannot read {path}: {exc.strerror}") from exc
        matches = list(edit.pattern.finditer(texts[path]))
        if len(matches) != 1:
            raise ReleaseError(
                f"{edit.path}: expected one line matching {edit.pattern.pattern!r}, "
                f"found {len(matches)}"
            )
        texts[path] = edit.pattern.sub(edit.replacement, texts[path])
    for path, text in texts.items():
        tmp = path.with_name(path.name + ".stamp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return list(texts)


def stamp(root: Path, version: str, image_digest: str | None = None) -> list[Path]:
    """Write ``version`` (and the image digest) into the tree at ``root``."""
    if image_digest is not None and not _DIGEST.fullmatch(image_digest):
        raise ReleaseError(f"{image_digest!r} is not an image digest (sha256:<64 hex digits>)")
    image = f"{IMAGE}:{version}" + (f"@{image_digest}" if image_digest else "")
    edits = [
        Edit(
            PACKAGE_INIT,
            re.compile(r'^__version__ = "[^"\n]*"$', re.M),
            lambda _: f'__version__ = "{version}"',
        ),
        Edit(CHART_YAML, re.compile(r"^version: .*$", re.M), lambda _: f"version: {version}"),
        Edit(
            CHART_YAML,
            re.compile(r"^appVersion: .*$", re.M),
            lambda _: f'appVersion: "{version}"',
        ),
        Edit(
            CHART_YAML,
            re.compile(rf"^(\s+image: ){re.escape(IMAGE)}[:@]\S*$", re.M),
            lambda m: f"{m.group(1)}{image}",
        ),
    ]
    if image_digest is not None:
        # the digest key of the top-level image: block, and no other
        edits.append(
            Edit(
                CHART_VALUES,
                re.compile(r'^(image:\n(?:(?:  .*|\s*)\n)*?  digest: )"[^"\n]*"$', re.M),
                lambda m: f'{m.group(1)}"{image_digest}"',
            )
        )
    return _apply(root, edits)


def notes(changelog: str, version: str) -> str:
    """The body of the section ``## [version] - YYYY-MM-DD`` of a changelog."""
    heading = re.compile(rf"^## \[{re.escape(version)}\](.*)$", re.M)
    found = heading.search(changelog)
    if found is None:
        raise ReleaseError(f"CHANGELOG.md has no section '## [{version}] - YYYY-MM-DD'")
    date = found.group(1).strip().removeprefix("-").strip()
    if not _RELEASE_DATE.fullmatch(date):
        raise ReleaseError(
            f"CHANGELOG.md: the section of {version} has no release date "
            f"(write '## [{version}] - YYYY-MM-DD'), found {found.group(0)!r}"
        )
    rest = changelog[found.end() :]
    following = re.search(r"^## ", rest, re.M)
    body = (rest[: following.start()] if following else rest).strip()
    if not body:
        raise ReleaseError(f"CHANGELOG.md: the section of {version} is empty")
    return body + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="release.py", description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("version", help="print the version a tag names").add_argument("tag")
    stamp_parser = steps.add_parser("stamp", help="write the version into the tree")
    stamp_parser.add_argument("tag")
    stamp_parser.add_argument("--image-digest", help="pin the chart's image to this digest")
    stamp_parser.add_argument("--root", type=Path, default=ROOT, help="the tree to stamp")
    notes_parser = steps.add_parser("notes", help="print the changelog section of a version")
    notes_parser.add_argument("tag")
    notes_parser.add_argument("--changelog", type=Path, default=ROOT / "CHANGELOG.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        version = version_of(args.tag)
        if args.step == "version":
            print(version)
        elif args.step == "stamp":
            for path in stamp(args.root, version, args.image_digest):
                print(f"stamped {version} into {path}", file=sys.stderr)
        else:
            try:
                text = args.changelog.read_text(encoding="utf-8")
            except OSError as exc:
                raise ReleaseError(f"cannot read {args.changelog}: {exc.strerror}") from exc
            sys.stdout.write(notes(text, version))
    except ReleaseError as error:
        print(f"release.py {args.step}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
