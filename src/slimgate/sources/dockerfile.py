"""Read a Dockerfile into slimgate's pure model with the ``dockerfile-parse`` library.

This adapter is the only place that imports ``dockerfile_parse`` (the import-linter
contract keeps it out of the core). It substitutes build args in ``FROM`` lines: global
``ARG`` defaults declared before the first ``FROM``, overridden by ``build_args`` as
``docker build --build-arg`` would (Dockerfile reference, "Understand how ARG and FROM
interact"). The text is parsed in memory; nothing is written to disk.

``dockerfile-parse`` does not know heredocs (``RUN <<EOF`` ... ``EOF``, Dockerfile
reference, "Here-Documents"): it would read every line of the script as an instruction.
Their bodies are therefore taken out of the text first (blank lines keep the line numbers)
and put back into the value of the instruction that opened them, where the analysis reads
a heredoc RUN as its script; the instruction's ``end_line`` then covers the body. A byte
order mark before the first line is ignored, as BuildKit ignores it.

Bounds: ``dockerfile-parse`` joins continuation lines in time that grows with the square of
their number (40,000 continuation lines of one instruction took 0.12 s, 80,000 took
0.38 s), so an instruction continued over more than :data:`MAX_CONTINUED_LINES` lines is
:class:`~slimgate.errors.TooComplex`; ``slimgate lint`` reads at most :data:`MAX_CHARS` of
a file.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Mapping

from dockerfile_parse import DockerfileParser

from slimgate.analysis.dockerfile_model import Dockerfile, Instruction, Stage, substitute
from slimgate.errors import TooComplex, UsageError

MAX_CHARS = 4 * 1024 * 1024  # as large as an image config may be; a long Dockerfile is a few kB
MAX_CONTINUED_LINES = 10_000

_HEREDOC = re.compile(r"(?<![<\w])<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_KEYWORDS = {"RUN", "COPY", "ADD"}


class _Terminators:
    """Where each possible heredoc terminator line is, so that finding the end of a heredoc
    is a lookup rather than a scan of the rest of the file (a file of unterminated
    ``RUN <<EOF`` lines made that scan quadratic)."""

    def __init__(self, lines: list[str]) -> None:
        self.exact: dict[str, list[int]] = {}
        self.tabbed: dict[str, list[int]] = {}  # ``<<-`` allows leading tabs
        for at, line in enumerate(lines):
            line = line.rstrip("\r")
            self.exact.setdefault(line, []).append(at)
            self.tabbed.setdefault(line.lstrip("\t"), []).append(at)

    def first(self, terminator: str, strip_tabs: bool, start: int) -> int | None:
        """The first line at or after ``start`` that closes the heredoc."""
        found = (self.tabbed if strip_tabs else self.exact).get(terminator, [])
        position = bisect.bisect_left(found, start)
        return found[position] if position < len(found) else None


def _take_heredocs(text: str) -> tuple[str, dict[int, tuple[str, int]]]:
    """``text`` with heredoc bodies blanked, and by the (0-based) first line of each
    instruction that opens heredocs, the bodies and terminators to append to its value
    and the (0-based) line of its last terminator.

    Linear in the length of ``text``: blanked lines lie before the line being read, so the
    terminator positions found up front stay valid."""
    lines = text.split("\n")
    terminators: _Terminators | None = None
    bodies: dict[int, list[str]] = {}
    ends: dict[int, int] = {}
    start = 0
    opens = False
    continued = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if not continued:
            start = index
            words = line.split(None, 1)
            opens = bool(words) and words[0].upper() in _HEREDOC_KEYWORDS
        continued = line.rstrip().endswith("\\")
        index += 1
        if not opens or line.lstrip().startswith("#"):
            continue
        quotes = {'"': 0, "'": 0}
        counted = 0
        for marker in _HEREDOC.finditer(line):
            for quote in quotes:  # quotes before this marker, counted once per character
                quotes[quote] += line.count(quote, counted, marker.start())
            counted = marker.start()
            if quotes['"'] % 2 or quotes["'"] % 2:
                continue  # quoted: ``echo "<<EOF"`` is no heredoc
            strip_tabs, terminator = marker.group(1) == "-", marker.group(3)
            if terminators is None:
                terminators = _Terminators(lines)
            end = terminators.first(terminator, strip_tabs, index)
            if end is None:
                continue  # unterminated: leave the text to the parser
            taken = [body.rstrip("\r") for body in lines[index : end + 1]]
            lines[index : end + 1] = [""] * len(taken)
            index = end + 1
            bodies.setdefault(start, []).append("\n" + "\n".join(taken))
            ends[start] = end
    return "\n".join(lines), {at: ("".join(parts), ends[at]) for at, parts in bodies.items()}


def _check_continuations(text: str) -> None:
    run = 0
    for line in text.split("\n"):
        run = run + 1 if line.rstrip().endswith("\\") else 0
        if run > MAX_CONTINUED_LINES:
            raise TooComplex(
                f"an instruction continues over more than {MAX_CONTINUED_LINES:,} lines"
            )


def _parse_from(value: str) -> tuple[str, str | None, str | None]:
    flags = [w.partition("=")[2] for w in value.split() if w.startswith("--platform=")]
    rest = [w for w in value.split() if not w.startswith("--platform=")]
    platform = flags[-1] if flags else None
    image = rest[0] if rest else ""
    name = rest[2] if len(rest) >= 3 and rest[1].lower() == "as" else None
    return image, name, platform


def parse_dockerfile(text: str, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """The stages of a Dockerfile; raises UsageError when it has no FROM, and TooComplex
    when an instruction is continued over more than :data:`MAX_CONTINUED_LINES` lines."""
    text, heredocs = _take_heredocs(text.removeprefix("\ufeff"))
    _check_continuations(text)
    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
        structure = parser.structure
    except (ValueError, UnicodeError) as exc:
        raise UsageError(f"cannot parse Dockerfile: {exc}") from exc
    args: dict[str, str] = {}  # global ARGs that have a value
    declared: set[str] = set()  # every global ARG: only these take a --build-arg
    stages: list[Stage] = []
    pending: list[Instruction] = []
    current: dict[str, object] | None = None
    preamble: list[Instruction] = []
    comments: list[Instruction] = []

    def close() -> None:
        if current is not None:
            stages.append(Stage(instructions=tuple(pending), **current))  # type: ignore[arg-type]

    for item in structure:
        keyword = str(item["instruction"]).upper()
        body, heredoc_end = heredocs.get(int(item["startline"]), ("", -1))
        value = str(item["value"]) + body
        line = int(item["startline"]) + 1
        end_line = max(int(item["endline"]), heredoc_end) + 1
        if keyword == "COMMENT":
            comments.append(Instruction(keyword, value.rstrip("\r"), line, end_line))
            continue
        if keyword == "FROM":
            close()
            pending = []
            raw, name, platform = _parse_from(value)
            given = {k: v for k, v in (build_args or {}).items() if k in declared}
            scope = {**args, **given}
            current = {
                "index": len(stages),
                "base": substitute(raw, scope),
                "raw_base": raw,
                "name": name,
                "platform": platform,
                "line": line,
            }
            continue
        if current is None:
            preamble.append(Instruction(keyword, value, line, end_line))
            if keyword == "ARG":
                name, has_default, default = value.strip().partition("=")
                declared.add(name.strip())
                if has_default:  # `ARG X` alone declares X but leaves it unset
                    args[name.strip()] = default.strip().strip("\"'")
            continue
        pending.append(Instruction(keyword, value, line, end_line))
    close()
    if not stages:
        raise UsageError("the Dockerfile has no FROM instruction")
    return Dockerfile(
        stages=tuple(stages),
        args=args,
        preamble=tuple(preamble),
        comments=tuple(comments),
        build_args=dict(build_args or {}),
    )
