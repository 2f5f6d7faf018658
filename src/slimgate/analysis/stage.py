"""Where the final stage begins, and which steps a recognised base already accounts for.

An image's history holds every instruction of every image it was built ``FROM``, but only
the last stage of a multi-stage build: stages that ran ``go build`` and were left behind
leave no trace. So a build command in the history ran in the final image. The final stage
starts after the recognised base (its last layer by lineage, or the end of its own steps by
signature); failing that, after the last ``CMD``/``ENTRYPOINT`` that is followed by a RUN,
COPY or ADD (official images end with one, applications rarely set one mid-way); failing
that, the whole image is the final stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slimgate.analysis.facts import StepFacts
from slimgate.analysis.recognition import Recognition

_LAYER_INSTRUCTIONS = ("RUN", "COPY", "ADD")


@dataclass(frozen=True, slots=True)
class Scope:
    final_start: int  # index of the first step of the final stage
    folded_end: int  # steps up to here are the recognised toolchain base's (-1: none)

    def folded(self, index: int) -> bool:
        return index <= self.folded_end


def scope_of(steps: Sequence[StepFacts], recognition: Recognition | None) -> Scope:
    boundary = -1
    for position, facts in enumerate(steps):
        if facts.step.instruction in ("CMD", "ENTRYPOINT") and any(
            later.step.instruction in _LAYER_INSTRUCTIONS for later in steps[position + 1 :]
        ):
            boundary = facts.index
    base_end = -1
    if recognition is not None and recognition.end is not None:
        base_end = recognition.end
    folded = base_end if recognition is not None and recognition.rule is not None else -1
    return Scope(final_start=max(boundary, base_end) + 1, folded_end=folded)
