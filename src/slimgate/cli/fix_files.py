"""The build context next to a Dockerfile, read for ``slimgate fix`` with bounds.

Implements :class:`slimgate.fix.files.ProjectFiles` over a directory: small project files
(at most 1 MiB each, never outside the directory), a bounded listing, and the compressed
size of what a ``COPY`` would send, with ``.dockerignore`` applied (its patterns matched the
way Docker's are, ``!`` exceptions included, closely enough for an estimate) and the
reading capped so a huge context costs bounded time.
"""

from __future__ import annotations

import fnmatch
import os
import zlib
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

MAX_FILE = 1 << 20  # a project file larger than this is not read
MAX_LISTED = 5000  # files listed by names()
MAX_MEASURED = 256 << 20  # bytes compressed for an estimate; past this the size is None
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "target", "__pycache__"})


def _patterns(root: Path) -> list[tuple[bool, str]]:
    try:
        text = (root / ".dockerignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    patterns: list[tuple[bool, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        pattern = pattern.strip().strip("/")
        pattern = os.path.normpath(pattern).replace(os.sep, "/") if pattern else pattern
        if pattern:
            patterns.append((negated, pattern.removeprefix("./")))
    return patterns


def _ignored(relative: str, patterns: list[tuple[bool, str]]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, pattern in patterns:
        if any(
            fnmatch.fnmatchcase(p, pattern) or fnmatch.fnmatchcase(p, pattern.replace("**/", ""))
            for p in prefixes
        ):
            ignored = not negated
    return ignored


class DirectoryFiles:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._ignore = _patterns(self.root)

    def _path(self, relative: str) -> Path | None:
        path = (self.root / relative).resolve()
        return path if path == self.root or self.root in path.parents else None

    def read(self, path: str) -> str | None:
        target = self._path(path)
        try:
            if target is None or not target.is_file() or target.stat().st_size > MAX_FILE:
                return None
            return target.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        target = self._path(path)
        return target is not None and target.exists()

    def _walk(self, top: Path, skip: frozenset[str]) -> Iterator[Path]:
        for directory, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in skip)
            for name in sorted(files):
                yield Path(directory) / name

    def names(self, suffix: str) -> tuple[str, ...]:
        found = (p for p in self._walk(self.root, _SKIP_DIRS) if p.name.endswith(suffix))
        return tuple(p.relative_to(self.root).as_posix() for p in islice(found, MAX_LISTED))

    def compressed_size(self, paths: Sequence[str]) -> int | None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
        size = 0
        read = 0
        seen: set[Path] = set()
        for relative in paths:
            top = self._path(relative)
            if top is None or not top.exists():
                continue
            candidates = [top] if top.is_file() else list(self._walk(top, frozenset({".git"})))
            for path in candidates:
                if path in seen or path.is_symlink() or not path.is_file():
                    continue
                seen.add(path)
                if _ignored(path.relative_to(self.root).as_posix(), self._ignore):
                    continue
                try:
                    with path.open("rb") as stream:
                        while chunk := stream.read(1 << 16):
                            read += len(chunk)
                            if read > MAX_MEASURED:
                                return None
                            size += len(compressor.compress(chunk))
                except OSError:
                    continue
        return size + len(compressor.flush())
