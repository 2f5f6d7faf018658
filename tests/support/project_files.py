"""A build context of a few small files, in memory: the planner's ``ProjectFiles`` for
unit tests that need one or two project files and no directory, and the fixed Dockerfile
the planner writes over it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slimgate.fix import Status, plan_fix
from slimgate.sources.dockerfile import parse_dockerfile


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


def fixed(text: str, files: Mapping[str, str] | None = None) -> str:
    """The Dockerfile ``slimgate fix`` writes for ``text`` over ``files``; fails unless fixed."""
    context = MemoryFiles(files) if files is not None else None
    result = plan_fix(parse_dockerfile(text), text, context)
    assert result.status is Status.FIXED, result.message
    assert result.text is not None
    return result.text
