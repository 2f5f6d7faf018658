"""Lint a Dockerfile's final stage with the same rules the image analysis runs.

Before an image exists, its Dockerfile says the same things its history will: the base
image (``FROM``), and the RUN/COPY/ADD steps of the final stage. The final stage includes
the stages it is built ``FROM`` (``FROM build AS final`` ships everything ``build``
installed); stages only referred to by ``COPY --from`` do not ship. Sizes are unknown, so
findings carry no saving. The analysis limits apply as to an image's history, with the
instructions of the final stage's chain in place of history entries.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from slimgate.analysis.base import classify_reference
from slimgate.analysis.complexity import capped, too_complex
from slimgate.analysis.dockerfile_model import Dockerfile, Stage
from slimgate.analysis.engine import analyse_facts, ordered
from slimgate.analysis.facts import Facts, facts_of_steps
from slimgate.analysis.findings import Analysis, BaseImage, Method
from slimgate.analysis.limits import DEFAULT_LIMITS, Clock, Limits, Meter
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.steps import steps_from_instructions
from slimgate.errors import TooComplex
from slimgate.model import DEFAULT_PLATFORM, SOURCE_ANNOTATION, Platform


def _env_of(stages: tuple[Stage, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword != "ENV":
                continue
            try:
                words = shlex.split(instruction.value)
            except ValueError:
                words = instruction.value.split()
            if words and "=" not in words[0]:
                env[words[0]] = " ".join(words[1:])  # legacy ``ENV NAME value``
                continue
            for word in words:
                name, _, value = word.partition("=")
                env[name] = value
    return env


def _args_of(stages: tuple[Stage, ...], global_args: Mapping[str, str]) -> dict[str, str]:
    """Build args with their defaults as the final stage's RUN lines see them (a global
    ARG is visible in a stage that declares it again without a value)."""
    args: dict[str, str] = {}
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword != "ARG":
                continue
            try:
                words = shlex.split(instruction.value)
            except ValueError:
                words = instruction.value.split()
            for word in words:
                name, eq, value = word.partition("=")
                args[name] = value if eq else global_args.get(name, "")
    return args


def _labels_of(stages: tuple[Stage, ...]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword == "LABEL":
                try:
                    words = shlex.split(instruction.value)
                except ValueError:
                    continue
                labels.update(w.partition("=")[::2] for w in words if "=" in w)
    return labels


def recognise_from(reference: str) -> Recognition | None:
    """The base a FROM line names, when it is one the signatures know."""
    classified = classify_reference(reference)
    if classified is None:
        return None
    signature, rule = classified
    base = BaseImage(
        name=signature.name if rule else signature.clean_name,
        ecosystem=signature.ecosystem,
        method=Method.DOCKERFILE,
        evidence=f"FROM {reference}",
        reference=reference,
    )
    return Recognition(base, rule, signature.ecosystem, -1, signature)


def lint(
    dockerfile: Dockerfile,
    platform: Platform = DEFAULT_PLATFORM,
    *,
    limits: Limits = DEFAULT_LIMITS,
    clock: Clock | None = None,
) -> Analysis:
    """Findings for the image the Dockerfile's final stage would build; a Dockerfile past
    ``limits`` (or the CPU budget on ``clock``) gets one ``too-complex`` finding."""
    final = dockerfile.final
    if final is None:
        return Analysis(findings=(), base=None, compressed_size=0)
    meter = Meter(limits, clock)
    chain, root = dockerfile.chain(final)
    instructions = [instruction for stage in chain for instruction in stage.instructions]
    try:
        meter.entries(len(instructions), "instructions in the final stage")
        for instruction in instructions:
            meter.text(instruction.value, f"the {instruction.keyword} on line {instruction.line}")
        steps = steps_from_instructions(
            (instruction.keyword, instruction.value, instruction.line)
            for instruction in instructions
        )
        env = _env_of(chain)
        labels = _labels_of(chain)
        variables = {**_args_of(chain, dockerfile.args), **env}
        facts = Facts(
            steps=facts_of_steps(steps, variables, platform, meter),
            env=env,
            labels=labels,
            source=labels.get(SOURCE_ANNOTATION) or None,
        )
        recognition = recognise_from(root)
        findings = analyse_facts(facts, recognition, meter)
    except TooComplex as exc:
        return too_complex(str(exc), 0)
    return Analysis(
        findings=capped(ordered(findings), limits.findings_per_rule),
        base=recognition.base if recognition is not None else None,
        compressed_size=0,
    )
