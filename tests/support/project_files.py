"""A build context of a few small files, in memory: the planner's ``ProjectFiles`` for
unit tests that need one or two project files and no directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class MemoryFiles:
    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = dict(files)

    def read(self, path: str) -> str | None:
        return self.files.get(path)

    def exists(self, path: str) -> bool:
        return path in self.files

    def names(self, suffix: str) -> tuple[str, ...]:
        return tuple(sorted(p for p in self.files if p.endswith(suffix)))

    def compressed_size(self, paths: Sequence[str]) -> int | None:
        return None
