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

import re
from collections.abc import Iterable
from dataclasses import dataclass

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

    @property
    def where(self) -> str:
        """How messages point at the step: ``layer 4``, ``line 12`` or ``step 7``."""
        if self.layer is not None:
            return f"layer {self.layer}"
        if self.line is not None:
            return f"line {self.line}"
        return f"step {self.index}"


def _strip_args(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    match = _ARGS.match(text)
    if match is None:
        return text, ()
    count = int(match.group(1))
    pos = match.end()
    args: list[tuple[str, str]] = []
    for _ in range(count):  # by position: slicing off each word would copy the rest each time
        end = text.find(" ", pos)
        word = text[pos:] if end < 0 else text[pos:end]
        name, eq, value = word.partition("=")
        if not eq:
            break
        args.append((name, value))
        pos = len(text) if end < 0 else end + 1
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return text[pos:], tuple(args)


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


def parse_created_by(created_by: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """``(instruction, body, build_args)`` for one ``created_by`` text."""
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
        body, args = _strip_args(body)
        shell = _SHELL.match(body)
        if shell is not None:
            body = body[shell.end() :]
        body = _unheredoc(body)
    return instruction, body, args


def steps_of(image: ImageMetadata) -> tuple[Step, ...]:
    """The image's history as steps, each with its layer when the pairing is known."""
    sizes = {i: desc.size for i, desc in enumerate(image.layers)}
    steps = []
    for index, (entry, layer) in enumerate(image.iter_history()):
        instruction, body, args = parse_created_by(entry.created_by)
        steps.append(
            Step(
                index=index,
                instruction=instruction,
                body=body,
                created_by=entry.created_by,
                layer=layer,
                size=sizes.get(layer) if layer is not None else None,
                args=args,
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
        body = _unheredoc(value) if keyword == "RUN" else value
        steps.append(Step(index, keyword, body, f"{keyword} {value}", line=line))
    return tuple(steps)
