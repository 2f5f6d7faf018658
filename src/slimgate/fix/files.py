"""The build context as the planner may read it: a protocol, filled by the CLI.

The planner is pure: it never opens a file. What it wants to know about the project
(``package.json``, ``Cargo.toml``, ``pom.xml``, whether a ``.go`` file imports ``C``, how
much the build context weighs) it asks through :class:`ProjectFiles`, which the CLI
implements over the directory next to the Dockerfile (bounded reads) and tests implement
over a dictionary. Paths are relative to the build context, ``/``-separated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ProjectFiles(Protocol):
    def read(self, path: str) -> str | None:
        """The text of a small file, or None when it is absent, too large or unreadable."""

    def exists(self, path: str) -> bool: ...

    def names(self, suffix: str) -> tuple[str, ...]:
        """Paths of files ending with ``suffix`` (a bounded number), sorted."""

    def compressed_size(self, paths: Sequence[str]) -> int | None:
        """About what a layer of these paths weighs compressed (``.`` is the whole
        context, less ``.dockerignore``); None when it cannot be measured."""


class NoFiles:
    """A build context that cannot be read: every question has no answer."""

    def read(self, path: str) -> str | None:
        return None

    def exists(self, path: str) -> bool:
        return False

    def names(self, suffix: str) -> tuple[str, ...]:
        return ()

    def compressed_size(self, paths: Sequence[str]) -> int | None:
        return None
