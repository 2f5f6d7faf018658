"""Read the configuration's YAML, remembering the line of every key and list item.

Errors in a configuration file must name the key path and the line, so the document is
composed into nodes first (their marks carry line numbers), the line of every mapping key
and sequence item is recorded by path, and only then is it constructed into plain data.
Duplicate keys, which PyYAML would silently let the last one win, are refused.

The schema is PyYAML's safe one with the two YAML 1.1 surprises taken out: only
``true``/``false`` are booleans (``off`` stays the string a rule action needs) and dates
stay strings, for the validator to check with a proper message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

from slimgate.errors import ConfigError

KeyPath = tuple[str | int, ...]
DEFAULT_SOURCE = "slimgate/defaults/config.yaml"


def default_text() -> str:
    """The built-in configuration file shipped in the package."""
    return (resources.files("slimgate") / "defaults" / "config.yaml").read_text("utf-8")


class ConfigLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and no implicit timestamps."""


_DROPPED_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def format_path(path: KeyPath) -> str:
    """``("policy", "exemptions", 0, "reason")`` -> ``policy.exemptions[0].reason``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def located(source: str, path: KeyPath, lines: Mapping[KeyPath, int]) -> str:
    """``FILE:LINE: key.path``, the line of the longest prefix of ``path`` the file has."""
    found = (lines[path[:end]] for end in range(len(path), -1, -1) if path[:end] in lines)
    line = next(found, None)
    where = f"{source}:{line}" if line is not None else source
    return f"{where}: {format_path(path)}"


def _marks(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], source: str) -> None:
    """Record the line of every key and item under ``node``; reject duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{source}:{line}: {format_path(child)}: duplicate key")
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _marks(value_node, child, lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _marks(item, child, lines, source)


def load_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse ``text``; return the data and the line of every key path in it."""
    loader = ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[KeyPath, int] = {(): node.start_mark.line + 1}
        _marks(node, (), lines, source)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"{mark.line + 1}" if mark is not None else "?"
        raise ConfigError(f"{source}:{line}: invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
