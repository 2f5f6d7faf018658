"""Small readers of project files the planners consult (all pure, all forgiving).

Each returns None (or an empty value) when the file is absent or not what it should be:
a planner then says what it could not tell instead of guessing.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any
from xml.etree import ElementTree

from slimgate.fix.files import ProjectFiles


def json_file(files: ProjectFiles, path: str) -> dict[str, Any] | None:
    text = files.read(path)
    if text is None:
        return None
    try:
        loaded = json.loads(text)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def toml_file(files: ProjectFiles, path: str) -> dict[str, Any] | None:
    text = files.read(path)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def xml_root(files: ProjectFiles, path: str) -> ElementTree.Element | None:
    text = files.read(path)
    if text is None or "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None  # no DTDs: a project file never needs one
    try:
        return ElementTree.fromstring(text)  # noqa: S314 (DTDs refused above, expat bounds the rest)
    except ElementTree.ParseError:
        return None


def xml_text(root: ElementTree.Element, *names: str) -> str | None:
    """The text of the first child path ``names`` (namespaces ignored)."""
    node: ElementTree.Element | None = root
    for name in names:
        if node is None:
            return None
        node = next((child for child in node if child.tag.rpartition("}")[2] == name), None)
    return node.text.strip() if node is not None and node.text else None


def dependencies(package: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in ("dependencies", "devDependencies"):
        section = package.get(key)
        if isinstance(section, dict):
            found.update({str(k): str(v) for k, v in section.items()})
    return found


def major(version: str | None) -> int | None:
    """The major version in a semver range (``^3.10.0`` -> 3), when there is one."""
    if not version:
        return None
    match = re.search(r"\d+", version)
    return int(match.group()) if match else None
