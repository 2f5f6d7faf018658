"""Lint a Dockerfile's final stage with the same rules the image analysis runs.

Before an image exists, its Dockerfile says the same things its history will: the base
image (``FROM``), and the RUN/COPY/ADD steps of the final stage. The final stage includes
the stages it is built ``FROM`` (``FROM build AS final`` ships everything ``build``
installed); stages only referred to by ``COPY --from`` do not ship. Sizes are unknown, so
findings carry no saving.
"""

from __future__ import annotations

import shlex

from slimgate.analysis.base import Recognition, classify_reference
from slimgate.analysis.dockerfile_model import Dockerfile, Stage
from slimgate.analysis.engine import analyse_facts, ordered
from slimgate.analysis.facts import Facts, facts_of_steps
from slimgate.analysis.findings import Analysis, BaseImage, Method
from slimgate.analysis.steps import steps_from_instructions
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


def lint(dockerfile: Dockerfile, platform: Platform = DEFAULT_PLATFORM) -> Analysis:
    """Findings for the image the Dockerfile's final stage would build."""
    final = dockerfile.final
    if final is None:
        return Analysis(findings=(), base=None, compressed_size=0)
    chain, root = dockerfile.chain(final)
    steps = steps_from_instructions(
        (instruction.keyword, instruction.value, instruction.line)
        for stage in chain
        for instruction in stage.instructions
    )
    env = _env_of(chain)
    labels = _labels_of(chain)
    facts = Facts(
        steps=facts_of_steps(steps, env, platform),
        env=env,
        labels=labels,
        source=labels.get(SOURCE_ANNOTATION) or None,
    )
    recognition = recognise_from(root)
    findings = analyse_facts(facts, recognition)
    return Analysis(
        findings=ordered(findings),
        base=recognition.base if recognition is not None else None,
        compressed_size=0,
    )
