"""What makes a Dockerfile unbuildable or its judgement uncertain, said rather than ignored.

The lint judges the image a Dockerfile would build; when it would not build (an unknown
instruction, a ``FROM`` that names no image, a template placeholder left in) or a line means
something other than it seems (a global ``ARG`` used in a stage that does not declare it
again is empty there, Dockerfile reference "Scope"), the lint adds a note. Notes are not
findings: they change no decision.
"""

from __future__ import annotations

import re

from slimgate.analysis.dockerfile_model import Dockerfile, Instruction, Stage
from slimgate.analysis.steps import INSTRUCTIONS

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\$\{\{.*?\}\}|<%.*?%>|%%[A-Z_]+%%")
# A repository is lower-case path components; one that starts like a version is a tag
# written without its image (``FROM 8.2-fpm-alpine``).
_TAG_ONLY = re.compile(r"\d[\w.]*(?:-[\w.]+)*")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
NOTES_LIMIT = 10


def _declarations(instruction: Instruction) -> list[str]:
    if instruction.keyword not in ("ARG", "ENV"):
        return []
    names = [word.partition("=")[0] for word in instruction.value.split()]
    return [name for name in names if name.isidentifier()]


def _stage_notes(stage: Stage, global_args: set[str]) -> list[str]:
    notes = []
    if stage.raw_base and _TAG_ONLY.fullmatch(stage.raw_base):
        notes.append(
            f"line {stage.line}: FROM {stage.raw_base} names no image (a tag without its "
            "repository?): the build would fail to pull it"
        )
    placeholder = _PLACEHOLDER.search(stage.raw_base)
    if placeholder is not None:
        notes.append(f"line {stage.line}: FROM holds a template placeholder {placeholder[0][:32]}")
    declared: set[str] = set()
    for instruction in stage.instructions:
        notes.extend(_instruction_notes(instruction))
        if instruction.keyword in ("RUN", "COPY", "ADD", "ENV", "WORKDIR"):
            for name in _VARIABLE.findall(instruction.value):
                if name in global_args and name not in declared:
                    declared.add(name)  # one note per name
                    notes.append(
                        f"line {instruction.line}: ${name} is a global ARG (before the first "
                        "FROM) not declared again in this stage, so it is empty here"
                    )
        declared.update(_declarations(instruction))
    return notes


def _instruction_notes(instruction: Instruction) -> list[str]:
    if instruction.keyword not in INSTRUCTIONS:
        return [
            f"line {instruction.line}: unknown instruction {instruction.keyword[:32]}: "
            "the Dockerfile would not build"
        ]
    placeholder = _PLACEHOLDER.search(instruction.value)
    if placeholder is not None:
        return [
            f"line {instruction.line}: {instruction.keyword} holds a template placeholder "
            f"{placeholder[0][:32]}: render the template first"
        ]
    return []


def notes(dockerfile: Dockerfile) -> tuple[str, ...]:
    """The notes for ``dockerfile``, at most :data:`NOTES_LIMIT`."""
    global_args = {
        instruction.value.partition("=")[0].strip()
        for instruction in dockerfile.preamble
        if instruction.keyword == "ARG"
    }
    found: list[str] = []
    for stage in dockerfile.stages:
        found.extend(_stage_notes(stage, global_args))
        if len(found) >= NOTES_LIMIT:
            break
    return tuple(found[:NOTES_LIMIT])
