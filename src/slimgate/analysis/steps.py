"""Turn image history (or Dockerfile instructions) into uniform build steps.

The ``created_by`` text of an image config's history comes in several dialects:

* the classic builder: ``/bin/sh -c #(nop)  ENV A=b`` for metadata and ``/bin/sh -c cmd``
  for RUN, with ``|2 A=1 B=2 /bin/sh -c cmd`` when build args were in scope;
* BuildKit: ``RUN /bin/sh -c cmd # buildkit``, ``RUN |1 A=1 /bin/sh -c cmd # buildkit``,
  ``COPY . . # buildkit``, ``ENV A=b``, heredocs as ``RUN /bin/sh -c <<EOF ... EOF``;
* the rendering of docker-library's repo-info, which drops ``/bin/sh -c``.

Each becomes a :class:`Step` with an upper-case instruction, the body (the shell script
for RUN), build args that were in scope, and the layer it produced (None when empty or
when history and layers do not line up).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from slimgate.analysis.pairing import paired
from slimgate.model import ImageMetadata

INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
METADATA = INSTRUCTIONS - {"ADD", "COPY", "RUN"}

_NOP = re.compile(r"^/bin/(?:ba)?sh\s+-c\s+#\(nop\)\s*")
_SHELL = re.compile(r"^(?:/bin/(?:ba)?sh|sh|bash)\s+-(?:[a-z]*c)\s+")
_ARGS = re.compile(r"^\|(\d+)\s+")
_HEREDOC = re.compile(r"^<<(-?)\s*(['\"]?)(\w+)\2[^\n]*\n")


@dataclass(frozen=True, slots=True)
class Step:
    """One build step: an instruction, its body and the layer it made."""

    index: int  # position in the history (or in the Dockerfile stage)
    instruction: str  # "RUN", "COPY", "ENV", ... or "" when unrecognisable
    body: str  # the shell script of a RUN, the arguments of anything else
    created_by: str  # the text as recorded
    layer: int | None = None
    size: int | None = None  # compressed bytes of that layer
    args: tuple[tuple[str, str], ...] = ()  # build args in scope (``|N A=1`` prefix)
    line: int | None = None  # Dockerfile line, when the step comes from a Dockerfile
    comment: str | None = None  # the history entry's comment (Nix lists store paths there)

    @property
    def where(self) -> str:
        """How messages point at the step: ``layer 4``, ``line 12`` or ``step 7``."""
        if self.layer is not None:
            return f"layer {self.layer}"
        if self.line is not None:
            return f"line {self.line}"
        return f"step {self.index}"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_NEXT_NAME = re.compile(r"\s([A-Za-z_][A-Za-z0-9_]*)=")
_COMMAND_START = re.compile(r"\s(?=(?:/bin/(?:ba)?sh|/usr/bin/env|sh|bash)\s+-[a-z]*c\s)")
# Flags BuildKit, Buildah and Kaniko can record before a RUN's command.
_RUN_FLAG = re.compile(r"--(?:mount|network|security|device)(?:=\S*)?\s+")


def _strip_args(
    text: str, declared: frozenset[str] = frozenset()
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The command after a ``|N NAME=value ...`` prefix, and those N build args.

    BuildKit and the classic builder write the values unquoted, spaces included
    (``|1 packages=gcc make /bin/sh -c ...``). A value runs up to the next ``NAME=`` of a
    declared ARG (``declared``, from the history's ARG entries) or, failing that, of any
    name; the last one runs up to the shell (``/bin/sh -c``), else to the next space.
    One pass over the text: the candidate boundaries are found once.
    """
    match = _ARGS.match(text)
    if match is None:
        return text, ()
    count = int(match.group(1))
    pos = match.end()
    shell = _COMMAND_START.search(text, pos)
    limit = shell.start() if shell is not None else len(text)
    marks = [(m.start(), m.group(1) in declared) for m in _NEXT_NAME.finditer(text, pos, limit)]
    # next_declared[i]: the first declared boundary at or after marks[i] (or -1)
    next_declared = [-1] * (len(marks) + 1)
    for i in range(len(marks) - 1, -1, -1):
        next_declared[i] = marks[i][0] if marks[i][1] else next_declared[i + 1]
    cursor = 0
    args: list[tuple[str, str]] = []
    for number in range(count):
        name_match = _NAME.match(text, pos)
        if name_match is None:
            break
        start = name_match.end()
        while cursor < len(marks) and marks[cursor][0] < start:
            cursor += 1
        if number < count - 1 and cursor < len(marks):
            end = next_declared[cursor] if next_declared[cursor] >= 0 else marks[cursor][0]
        elif shell is not None:
            end = limit
        else:
            space = text.find(" ", start)
            end = len(text) if space < 0 else space
        args.append((text[pos : start - 1], text[start:end]))
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return text[pos:], tuple(args)


def strip_run_flags(body: str) -> str:
    """``body`` without leading ``--mount=...``/``--network=...``/``--security=...`` flags
    (Kaniko and Buildah record them; a Dockerfile has them before the command)."""
    pos = 0
    while body.startswith("--", pos):
        flag = _RUN_FLAG.match(body, pos)
        if flag is None:
            break
        pos = flag.end()
    return body[pos:]


def _unheredoc(script: str) -> str:
    """The script of a heredoc RUN (``<<EOF\\n...\\nEOF``), else the script unchanged."""
    match = _HEREDOC.match(script)
    if match is None:
        return script
    terminator = match.group(3)
    lines = []
    for line in script[match.end() :].split("\n"):
        if (line.strip() if match.group(1) else line.rstrip()) == terminator:
            break
        lines.append(line)
    return "\n".join(lines)


def _without_trailer(text: str) -> str:
    """``text`` without BuildKit's ``# buildkit`` trailer. (The regular expression this
    replaces, ``\\s*#\\s*buildkit\\s*$``, took time quadratic in a run of spaces.)"""
    if not text.endswith("buildkit"):
        return text
    head = text[: -len("buildkit")].rstrip()
    return head[:-1].rstrip() if head.endswith("#") else text


def _parse(
    created_by: str, declared: frozenset[str]
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    text = _without_trailer(created_by.strip())
    nop = _NOP.match(text)
    if nop is not None:
        word, _, rest = text[nop.end() :].partition(" ")
        return word.upper(), rest.strip(), ()
    word, _, rest = text.partition(" ")
    if word.upper() in INSTRUCTIONS and word.isupper():
        instruction, body = word, rest.strip()
    else:
        instruction, body = "RUN", text  # classic builder RUN or an unknown tool
    args: tuple[tuple[str, str], ...] = ()
    if instruction == "RUN":
        body, args = _strip_args(strip_run_flags(body), declared)
        shell = _SHELL.match(body)
        if shell is not None:
            body = body[shell.end() :]
        body = _unheredoc(strip_run_flags(body))
    return instruction, body, args


# Entries up to this length are memoised, like the shell scripts they hold
# (:data:`slimgate.analysis.shell.MEMO_SCRIPT_CHARS`): a popular base's history recurs in
# every image built on it. Longer ones are parsed every time, so the memo stays bounded.
MEMO_ENTRY_CHARS = 16 * 1024
_memoised = functools.lru_cache(maxsize=4096)(_parse)


def parse_created_by(
    created_by: str, declared: frozenset[str] = frozenset()
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """``(instruction, body, build_args)`` for one ``created_by`` text; ``declared`` are
    the ARG names declared so far (they delimit unquoted build-arg values). Memoised up to
    :data:`MEMO_ENTRY_CHARS`; the result is immutable."""
    if len(created_by) > MEMO_ENTRY_CHARS:
        return _parse(created_by, declared)
    return _memoised(created_by, declared)


def clear_memo() -> None:
    """Forget every memoised entry (benchmarks measure a cold parse with it)."""
    _memoised.cache_clear()


def _arg_names(body: str) -> list[str]:
    """The names an ``ARG`` entry declares (``ARG A=1 B``)."""
    words = body.split()
    return [
        word.partition("=")[0]
        for position, word in enumerate(words)
        if (position == 0 or "=" in word) and _NAME.match(word.partition("=")[0] + "=")
    ]


def steps_of(image: ImageMetadata) -> tuple[Step, ...]:
    """The image's history as steps, each with its layer when the pairing is known."""
    sizes = {i: desc.size for i, desc in enumerate(image.layers)}
    steps = []
    # The ARG names declared so far. They only matter to a |N prefix, so ARG entries are
    # read when one comes, and each only once (not again at every later step).
    declared: frozenset[str] = frozenset()
    unread: list[str] = []  # ARG bodies not yet in ``declared``
    for index, (entry, layer) in enumerate(paired(image)):
        created_by = entry.created_by
        if not created_by or created_by.isspace():
            # Nix, buildpacks (before platform API 0.12) and squashing tools leave no
            # command: the step is unrecognisable, its comment is all there is to read.
            instruction, body = "", ""
            args: tuple[tuple[str, str], ...] = ()
        elif (unread or declared) and "|" in created_by[:8]:
            if unread:
                declared = declared.union(name for text in unread for name in _arg_names(text))
                unread.clear()
            instruction, body, args = parse_created_by(created_by, declared)
        else:
            instruction, body, args = parse_created_by(created_by)
        if instruction == "ARG":
            unread.append(body)
        steps.append(
            Step(
                index=index,
                instruction=instruction,
                body=body,
                created_by=entry.created_by or entry.comment or "",
                layer=layer,
                size=sizes.get(layer) if layer is not None else None,
                args=args,
                comment=entry.comment,
            )
        )
    return tuple(steps)


def steps_from_instructions(
    instructions: Iterable[tuple[str, str, int | None]],
) -> tuple[Step, ...]:
    """Steps for Dockerfile instructions ``(KEYWORD, value, line)``; no layers, no sizes."""
    steps = []
    for index, (keyword, value, line) in enumerate(instructions):
        keyword = keyword.upper()
        body = _unheredoc(strip_run_flags(value)) if keyword == "RUN" else value
        steps.append(Step(index, keyword, body, f"{keyword} {value}", line=line))
    return tuple(steps)
