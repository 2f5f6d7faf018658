"""What every rule reads, computed once per image: steps, their commands and kept packages.

Parsing shell scripts is the expensive part of the analysis, so it happens here, once,
for the platform being analysed (branches for other architectures are dropped), and here
the :class:`~slimgate.analysis.limits.Meter` counts entries, text, words and CPU time:
past a limit, :class:`~slimgate.errors.TooComplex` stops the analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from slimgate.analysis import packages, shell, steps
from slimgate.analysis.limits import Meter
from slimgate.analysis.nix import store_path_kept
from slimgate.analysis.packages import Kept, step_kept
from slimgate.analysis.pairing import mismatch
from slimgate.analysis.shell import Command, commands
from slimgate.analysis.signatures.architectures import aliases
from slimgate.analysis.steps import Step, steps_of
from slimgate.model import SOURCE_ANNOTATION, HistoryEntry, ImageConfig, ImageMetadata, Platform


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


_NO_CONFIG = ImageConfig()


@dataclass(frozen=True, slots=True)
class Facts:
    steps: tuple[StepFacts, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # the config's own labels
    source: str | None = None
    layer_digests: tuple[str, ...] = ()
    layer_sizes: tuple[int, ...] = ()  # compressed bytes per layer, from the manifest
    # The config the facts were read from (entrypoint, cmd, diff ids: builders' evidence);
    # a Dockerfile being linted has an empty one.
    config: ImageConfig = _NO_CONFIG
    # Which tool built the image when the config says so ("nix", "apko", "buildpacks"...):
    # findings then give that tool's remedy rather than Dockerfile advice.
    builder: str | None = None
    unpaired: str | None = None  # why steps have no layer (history and layers disagree)
    created: tuple[str | None, ...] = ()  # each history entry's ``created`` time, by step index

    @property
    def entrypoint(self) -> tuple[str, ...]:
        return self.config.entrypoint

    @property
    def cmd(self) -> tuple[str, ...]:
        return self.config.cmd

    @property
    def diff_ids(self) -> tuple[str, ...]:
        """The config's ``rootfs.diff_ids`` (buildpacks name their layers by these)."""
        return self.config.diff_ids


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
        kept = step_kept(step.body, arch, parsed, variables, meter)
        result.append(StepFacts(step, text, parsed, kept))
    return tuple(result)


def clear_memos() -> None:
    """Forget every memoised history entry, shell script and step result (benchmarks
    measure an image never seen before with it)."""
    steps.clear_memo()
    shell.clear_memo()
    packages.clear_memo()


def _with_store_paths(steps: tuple[StepFacts, ...]) -> tuple[StepFacts, ...]:
    """Steps whose history has no ``created_by`` but a Nix ``store paths`` comment keep
    the toolchain those paths name (:mod:`slimgate.analysis.nix`)."""
    result = []
    for facts in steps:
        kept = store_path_kept(facts.step.comment) if not facts.step.instruction else ()
        result.append(replace(facts, kept=kept) if kept else facts)
    return tuple(result)


def gather(image: ImageMetadata, meter: Meter | None = None) -> Facts:
    """The facts of ``image``; raises :class:`~slimgate.errors.TooComplex` past a limit."""
    meter = meter if meter is not None else Meter()
    history = image.config.history
    meter.entries(len(history))
    for position, entry in enumerate(history):
        meter.text(entry.created_by, f"history entry {position}")
        if entry.comment:
            meter.text(entry.comment, f"the comment of history entry {position}")
    config = image.config
    env = config.env_map()
    builder = builder_of(config.history)
    steps = facts_of_steps(steps_of(image), env, image.platform, meter)
    if builder == "nix":
        steps = _with_store_paths(steps)
    return Facts(
        steps=steps,
        env=env,
        labels=dict(config.labels),
        source=image.labels_and_annotations().get(SOURCE_ANNOTATION) or None,
        layer_digests=tuple(layer.digest for layer in image.layers),
        layer_sizes=tuple(layer.size for layer in image.layers),
        config=config,
        builder=builder,
        # a step with a layer means the pairing held: no need to count the history again
        unpaired=None if any(f.step.layer is not None for f in steps) else mismatch(image),
        created=tuple(entry.created for entry in history),
    )


def builder_of(history: Sequence[HistoryEntry]) -> str | None:
    """The tool that wrote the history, when it signs it: Nix ``store paths`` comments,
    an ``apko`` entry, buildpacks' ``Layer: '...', Created by buildpack:`` entries."""
    for entry in history:
        created_by = entry.created_by
        if not created_by:
            if entry.comment and entry.comment.startswith("store paths: "):
                return "nix"
        elif created_by == "apko":
            return "apko"
        elif (
            created_by[0] == "L"
            and created_by.startswith("Layer: '")
            and "Created by buildpack: " in created_by
        ):
            return "buildpacks"
    return None
