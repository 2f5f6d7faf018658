"""The original Dockerfile as text blocks, so a rewrite keeps every byte it does not change.

Each instruction of the parsed model (:mod:`slimgate.analysis.dockerfile_model`) is cut
out of the original text with its own lines (continuations, comments inside them, heredoc
bodies, ``--mount`` flags: all verbatim) and the comment lines right above it. Lines
before the first instruction (parser directives such as ``# syntax=``, a file header) and
after the last one are kept apart. Line endings are normalised to ``\\n`` here; the writer
puts the original ones back.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.analysis.dockerfile_model import Dockerfile, Instruction

BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Block:
    """An instruction's lines with the comments written above it."""

    instruction: Instruction
    comments: tuple[str, ...]
    lines: tuple[str, ...]
    gap: bool = False  # a blank line separated it from what came before

    @property
    def text(self) -> tuple[str, ...]:
        return self.comments + self.lines


@dataclass(frozen=True, slots=True)
class Source:
    header: tuple[str, ...]  # before the first instruction
    preamble: tuple[Block, ...]  # instructions before the first FROM (global ARGs)
    stage_from: Block  # the FROM of the (only) stage
    body: tuple[Block, ...]  # the stage's instructions, in order
    trailer: tuple[str, ...]  # comments after the last instruction
    crlf: bool
    bom: bool


def normalise(text: str) -> tuple[str, bool, bool]:
    """``text`` without BOM and with ``\\n`` endings, whether it had CRLF, whether a BOM."""
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    crlf = "\r\n" in text
    return text.replace("\r\n", "\n"), crlf, bom


def restore(text: str, crlf: bool, bom: bool) -> str:
    """The reverse of :func:`normalise` for text written with ``\\n``."""
    if crlf:
        text = text.replace("\n", "\r\n")
    return (BOM if bom else "") + text


def _from_end(lines: list[str], line: int) -> int:
    """The last line of a FROM that starts at ``line`` (1-based; continuations followed)."""
    end = line
    while end <= len(lines) and lines[end - 1].rstrip().endswith("\\"):
        end += 1
    return min(end, len(lines))


def _trim(lines: list[str]) -> tuple[str, ...]:
    """Comment lines above an instruction: blank lines at both ends dropped."""
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return tuple(lines)


def split(text: str, dockerfile: Dockerfile) -> Source:
    """Cut ``text`` (as parsed into ``dockerfile``, a single stage) into blocks."""
    text, crlf, bom = normalise(text)
    lines = text.split("\n")
    stage = dockerfile.stages[0]
    from_instruction = Instruction("FROM", stage.raw_base, stage.line, _from_end(lines, stage.line))
    ordered = [*dockerfile.preamble, from_instruction, *stage.instructions]
    blocks: list[Block] = []
    previous_end = 0
    header: tuple[str, ...] = ()
    for position, instruction in enumerate(ordered):
        above = lines[previous_end : instruction.line - 1]
        if position == 0:
            header, above = _trim(list(above)), []
        blocks.append(
            Block(
                instruction,
                _trim(list(above)),
                tuple(lines[instruction.line - 1 : instruction.last_line]),
                gap=any(not line.strip() for line in above),
            )
        )
        previous_end = instruction.last_line
    trailer = _trim(lines[previous_end:])
    count = len(dockerfile.preamble)
    return Source(
        header=header,
        preamble=tuple(blocks[:count]),
        stage_from=blocks[count],
        body=tuple(blocks[count + 1 :]),
        trailer=trailer,
        crlf=crlf,
        bom=bom,
    )
