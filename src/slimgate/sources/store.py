"""Read files of an image layout from a directory or a tar archive, within a size cap.

Both stores answer the same two questions (how big is a file, what are its bytes) so the
layout reader does not care where the layout lives. Nothing is extracted: a tar archive is
indexed by member name and only the members asked for are read; only regular files count.
"""

from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from slimgate.errors import NotFound, RegistryUnavailable, TooLarge, Unsupported


class Store(Protocol):
    """Files of a layout by their path inside it (``index.json``, ``blobs/sha256/...``)."""

    label: str  # what error messages call the place, e.g. "oci:./build/layout"

    def size(self, name: str) -> int | None:
        """The file's size in bytes, or None when it is absent."""
        ...

    def read(self, name: str, cap: int, what: str) -> bytes:
        """The file's bytes; :class:`NotFound` if absent, :class:`TooLarge` over ``cap``."""
        ...


def _check_cap(size: int, cap: int, what: str, label: str) -> None:
    if size > cap:
        raise TooLarge(f"{label}: {what} is {size} bytes, over the {cap}-byte limit", registry=None)


class DirectoryStore:
    """A layout unpacked in a directory."""

    def __init__(self, root: Path, label: str) -> None:
        if not root.is_dir():
            raise NotFound(f"{label}: {root} is not a directory")
        self.root = root
        self.label = label

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*PurePosixPath(name).parts)

    def size(self, name: str) -> int | None:
        path = self._path(name)
        return path.stat().st_size if path.is_file() else None

    def read(self, name: str, cap: int, what: str) -> bytes:
        size = self.size(name)
        if size is None:
            raise NotFound(f"{self.label}: {what} is missing ({name})")
        _check_cap(size, cap, what, self.label)
        try:
            with self._path(name).open("rb") as handle:
                data = handle.read(cap + 1)
        except OSError as exc:
            raise RegistryUnavailable(f"{self.label}: cannot read {name}: {exc}") from exc
        _check_cap(len(data), cap, what, self.label)
        return data


def _member_name(name: str) -> str:
    return str(PurePosixPath(name.removeprefix("./")))


def _link_target(member: tarfile.TarInfo) -> str:
    """A link member's target as a member name (symlinks are relative to their directory)."""
    if member.islnk():
        return _member_name(member.linkname)
    joined = posixpath.join(posixpath.dirname(member.name), member.linkname)
    return _member_name(posixpath.normpath(joined))


class TarStore:
    """A layout or ``docker save`` output inside a tar file (any compression tarfile knows)."""

    def __init__(self, path: Path, label: str) -> None:
        self.label = label
        if not path.is_file():
            raise NotFound(f"{label}: {path} is not a file")
        try:
            self._tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by close()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise Unsupported(f"{label}: {path} is not a readable tar archive: {exc}") from exc
        try:
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            self._tar.close()
            raise Unsupported(f"{label}: {path} is not a readable tar archive: {exc}") from exc
        self._members = {_member_name(m.name): m for m in members if m.isfile()}
        # docker save links a layer that two images share; a link's size is its target's.
        self._links = {
            _member_name(m.name): _link_target(m) for m in members if m.issym() or m.islnk()
        }

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> TarStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def size(self, name: str) -> int | None:
        name = _member_name(name)
        member = self._members.get(self._links.get(name, name))  # one level, as docker writes
        return member.size if member is not None else None

    def read(self, name: str, cap: int, what: str) -> bytes:
        member = self._members.get(_member_name(name))
        if member is None:
            raise NotFound(f"{self.label}: {what} is missing ({name})")
        _check_cap(member.size, cap, what, self.label)
        try:
            handle = self._tar.extractfile(member)
            if handle is None:
                raise NotFound(f"{self.label}: {what} is not a regular file ({name})")
            with handle:
                return handle.read(cap + 1)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise Unsupported(f"{self.label}: cannot read {name}: {exc}") from exc
