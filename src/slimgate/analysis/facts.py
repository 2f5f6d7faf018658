"""What every rule reads, computed once per image: steps, their commands and kept packages.

Parsing shell scripts is the expensive part of the analysis, so it happens here, once,
for the platform being analysed (branches for other architectures are dropped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    steps: Sequence[Step], env: Mapping[str, str], platform: Platform | None
) -> tuple[StepFacts, ...]:
    arch = aliases(platform) if platform is not None else None
    result = []
    for step in steps:
        text = f"{step.instruction} {step.body}"
        if step.instruction != "RUN":
            result.append(StepFacts(step, text))
            continue
        parsed = commands(step.body, arch)
        variables = {**env, **dict(step.args)}
        result.append(StepFacts(step, text, parsed, toolchain_kept(parsed, variables)))
    return tuple(result)


def gather(image: ImageMetadata) -> Facts:
    env = image.config.env_map()
    return Facts(
        steps=facts_of_steps(steps_of(image), env, image.platform),
        env=env,
        labels=dict(image.config.labels),
        source=image.labels_and_annotations().get(SOURCE_ANNOTATION) or None,
        layer_digests=tuple(layer.digest for layer in image.layers),
    )
