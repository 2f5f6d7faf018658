"""What every rule reads, computed once per image: steps, their commands and kept packages.

Parsing shell scripts is the expensive part of the analysis, so it happens here, once,
for the platform being analysed (branches for other architectures are dropped), and here
the :class:`~slimgate.analysis.limits.Meter` counts entries, text, words and CPU time:
past a limit, :class:`~slimgate.errors.TooComplex` stops the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from slimgate.analysis.limits import Meter
from slimgate.analysis.packages import Kept, toolchain_kept
from slimgate.analysis.shell import Command, commands
from slimgate.analysis.signatures.architectures import aliases
from slimgate.analysis.steps import Step, steps_of
from slimgate.model import SOURCE_ANNOTATION, ImageMetadata, Platform


@dataclass(frozen=True, slots=True)
class StepFacts:
    step: Step
    text: str  # "<INSTRUCTION> <body>", what signature patterns search
    commands: tuple[Command, ...] = ()
    kept: tuple[Kept, ...] = ()

    @property
    def index(self) -> int:
        return self.step.index

    @property
    def size(self) -> int:
        return self.step.size or 0


@dataclass(frozen=True, slots=True)
class Facts:
    steps: tuple[StepFacts, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # the config's own labels
    source: str | None = None
    layer_digests: tuple[str, ...] = ()


def facts_of_steps(
    steps: Sequence[Step],
    env: Mapping[str, str],
    platform: Platform | None,
    meter: Meter | None = None,
) -> tuple[StepFacts, ...]:
    """The facts of each step; raises :class:`~slimgate.errors.TooComplex` past a limit."""
    meter = meter if meter is not None else Meter()
    arch = aliases(platform) if platform is not None else None
    result = []
    for step in steps:
        meter.check()
        text = f"{step.instruction} {step.body}"
        if step.instruction != "RUN":
            result.append(StepFacts(step, text))
            continue
        parsed = commands(step.body, arch)
        meter.words(sum(len(c.argv) + len(c.assignments) for c in parsed) + len(step.args))
        variables = {**env, **dict(step.args)}
        result.append(StepFacts(step, text, parsed, toolchain_kept(parsed, variables, meter)))
    return tuple(result)


def gather(image: ImageMetadata, meter: Meter | None = None) -> Facts:
    """The facts of ``image``; raises :class:`~slimgate.errors.TooComplex` past a limit."""
    meter = meter if meter is not None else Meter()
    history = image.config.history
    meter.entries(len(history))
    for position, entry in enumerate(history):
        meter.text(entry.created_by, f"history entry {position}")
    env = image.config.env_map()
    return Facts(
        steps=facts_of_steps(steps_of(image), env, image.platform, meter),
        env=env,
        labels=dict(image.config.labels),
        source=image.labels_and_annotations().get(SOURCE_ANNOTATION) or None,
        layer_digests=tuple(layer.digest for layer in image.layers),
    )
