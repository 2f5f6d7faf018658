"""Lint a Dockerfile's final stage with the same rules the image analysis runs.

Before an image exists, its Dockerfile says the same things its history will: the base
image (``FROM``), and the RUN/COPY/ADD steps of the final stage. The final stage includes
the stages it is built ``FROM`` (``FROM build AS final`` ships everything ``build``
installed); stages only referred to by ``COPY --from`` do not ship. Sizes are unknown, so
findings carry no saving. The analysis limits apply as to an image's history, with the
instructions of the final stage's chain in place of history entries. What a ``COPY
--from`` takes from another stage is read from that stage's chain: its development
dependencies ship (:mod:`~slimgate.analysis.stage_copies`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from slimgate.analysis.base import classify_reference, split_reference, variant_name
from slimgate.analysis.complexity import capped, too_complex
from slimgate.analysis.dockerfile_model import Dockerfile, Stage, env_pairs, substitute, words
from slimgate.analysis.dockerfile_notes import notes
from slimgate.analysis.engine import analyse_facts, ordered
from slimgate.analysis.facts import Facts, facts_of_steps
from slimgate.analysis.findings import Analysis, BaseImage, Method
from slimgate.analysis.limits import DEFAULT_LIMITS, Clock, Limits, Meter
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.signatures.bases import BASE_ENV
from slimgate.analysis.stage_copies import carried_dev_findings
from slimgate.analysis.steps import steps_from_instructions
from slimgate.errors import TooComplex
from slimgate.model import DEFAULT_PLATFORM, SOURCE_ANNOTATION, Platform


def _env_of(stages: tuple[Stage, ...], args: Mapping[str, str]) -> dict[str, str]:
    """The ENV of ``stages``, with the build args and earlier variables they use
    substituted (``ENV NODE_ENV="${NODE_ENV}"`` after ``ARG NODE_ENV=production``)."""
    env: dict[str, str] = {}
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword == "ENV":
                scope = {**args, **env}
                env.update((k, substitute(v, scope)) for k, v in env_pairs(instruction.value))
    return env


def _args_of(
    stages: tuple[Stage, ...], global_args: Mapping[str, str], given: Mapping[str, str]
) -> dict[str, str]:
    """Build args as the final stage's RUN lines see them: the value given on the command
    line, else the stage's default, else the global ARG's (visible in a stage that
    declares it again without a value)."""
    args: dict[str, str] = {}
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword != "ARG":
                continue
            for word in words(instruction.value):
                name, eq, value = word.partition("=")
                default = value if eq else global_args.get(name, "")
                args[name] = given.get(name, default)
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


def _unset_args(raw: str, args: Mapping[str, str]) -> list[str]:
    """The build args a FROM line uses that have no value (``golang:${GO_VERSION}``)."""
    return [
        name for name in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", raw) if not args.get(name)
    ]


def recognise_from(
    reference: str, raw: str | None = None, args: Mapping[str, str] | None = None
) -> Recognition | None:
    """The base a FROM line names, when it is one the signatures know. ``raw`` is the line
    as written: a build arg it uses without a value is named in the evidence (the image
    would be built from whatever ``--build-arg`` gives; the tag is judged as written)."""
    classified = classify_reference(reference)
    if classified is None:
        return None
    signature, rule = classified
    evidence = f"FROM {reference}"
    unset = _unset_args(raw, args or {}) if raw and "$" in raw else []
    if unset and raw is not None:
        names = ", ".join(unset)
        verb = "sets" if len(unset) == 1 else "set"
        evidence = (
            f"FROM {raw}: ARG {names} {verb} the {'tag' if ':' in raw else 'image'} and has "
            f"no default, so only {split_reference(reference)[0]} is known"
        )
        reference = raw
    base = BaseImage(
        name=variant_name(signature, rule, split_reference(reference)[1]),
        ecosystem=signature.ecosystem,
        method=Method.DOCKERFILE,
        evidence=evidence,
        reference=reference,
    )
    return Recognition(base, rule, signature.ecosystem, -1, signature)


def base_env(reference: str) -> dict[str, str]:
    """What the base image's environment defines that RUN lines use (``$PHPIZE_DEPS``)."""
    classified = classify_reference(reference)
    if classified is None:
        return {}
    family = classified[0].family
    tag = split_reference(reference)[1]
    variant = next((v for f, v in BASE_ENV if f == family and v and v in tag), "")
    return dict(BASE_ENV.get((family, variant), ()))


def _facts_of(
    dockerfile: Dockerfile, chain: tuple[Stage, ...], platform: Platform, meter: Meter
) -> Facts:
    """The facts of the image a stage ``chain`` builds (root first); the meter counts its
    instructions and their text."""
    instructions = [instruction for stage in chain for instruction in stage.instructions]
    meter.entries(len(instructions), "instructions in the final stage")
    for instruction in instructions:
        meter.text(instruction.value, f"the {instruction.keyword} on line {instruction.line}")
    steps = steps_from_instructions(
        (instruction.keyword, instruction.value, instruction.line) for instruction in instructions
    )
    args = _args_of(chain, dockerfile.args, dockerfile.build_args)
    env = {**base_env(chain[0].base), **_env_of(chain, args)}
    labels = _labels_of(chain)
    variables = {**args, **env}
    return Facts(
        steps=facts_of_steps(steps, variables, platform, meter),
        env=env,
        labels=labels,
        source=labels.get(SOURCE_ANNOTATION) or None,
    )


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

    read: dict[tuple[int, ...], Facts] = {}  # each chain read once, however often copied

    def facts_of(chain: tuple[Stage, ...]) -> Facts:
        key = tuple(stage.index for stage in chain)
        if key not in read:
            read[key] = _facts_of(dockerfile, chain, platform, meter)
        return read[key]

    try:
        facts = facts_of(chain)
        recognition = recognise_from(root, chain[0].raw_base, dockerfile.args)
        findings = analyse_facts(facts, recognition, meter)
        findings.extend(carried_dev_findings(dockerfile, chain, facts, facts_of))
    except TooComplex as exc:
        return too_complex(str(exc), 0)
    return Analysis(
        findings=capped(ordered(findings), limits.findings_per_rule),
        base=recognition.base if recognition is not None else None,
        compressed_size=0,
        notes=notes(dockerfile),
    )
