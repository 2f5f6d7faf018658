"""Read a Dockerfile into slimgate's pure model with the ``dockerfile-parse`` library.

This adapter is the only place that imports ``dockerfile_parse`` (the import-linter
contract keeps it out of the core). It substitutes build args in ``FROM`` lines: global
``ARG`` defaults declared before the first ``FROM``, overridden by ``build_args`` as
``docker build --build-arg`` would (Dockerfile reference, "Understand how ARG and FROM
interact"). The text is parsed in memory; nothing is written to disk.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

from dockerfile_parse import DockerfileParser

from slimgate.analysis.dockerfile_model import Dockerfile, Instruction, Stage
from slimgate.errors import UsageError

_VARIABLE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)


def _substitute(text: str, args: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        default = match.group(2)
        value = args.get(name)
        return value if value else (default or "")

    return _VARIABLE.sub(replace, text)


def _parse_from(value: str) -> tuple[str, str | None, str | None]:
    words = value.split()
    platform = None
    rest = []
    for word in words:
        if word.startswith("--platform="):
            platform = word.partition("=")[2]
        else:
            rest.append(word)
    image = rest[0] if rest else ""
    name = rest[2] if len(rest) >= 3 and rest[1].lower() == "as" else None
    return image, name, platform


def parse_dockerfile(text: str, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """The stages of a Dockerfile; raises UsageError when it has no FROM."""
    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
        structure = parser.structure
    except (ValueError, UnicodeError) as exc:
        raise UsageError(f"cannot parse Dockerfile: {exc}") from exc
    args: dict[str, str] = {}
    stages: list[Stage] = []
    pending: list[Instruction] = []
    current: dict[str, object] | None = None

    def close() -> None:
        if current is not None:
            stages.append(Stage(instructions=tuple(pending), **current))  # type: ignore[arg-type]

    for item in structure:
        keyword = str(item["instruction"]).upper()
        value = str(item["value"])
        line = int(item["startline"]) + 1
        if keyword == "FROM":
            close()
            pending = []
            raw, name, platform = _parse_from(value)
            scope = {**args, **(build_args or {})}
            current = {
                "index": len(stages),
                "base": _substitute(raw, scope),
                "raw_base": raw,
                "name": name,
                "platform": platform,
                "line": line,
            }
            continue
        if current is None:
            if keyword == "ARG":
                name, _, default = value.strip().partition("=")
                args[name.strip()] = default.strip().strip("\"'")
            continue
        if keyword not in ("COMMENT",):
            pending.append(Instruction(keyword, value, line))
    close()
    if not stages:
        raise UsageError("the Dockerfile has no FROM instruction")
    return Dockerfile(stages=tuple(stages), args=args)
