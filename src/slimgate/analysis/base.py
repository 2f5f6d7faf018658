"""Recognise the base image, strongest evidence first, and where its layers end.

Order of strength: the OCI annotation ``org.opencontainers.image.base.name`` (image-spec
annotations.md), the same key as a config label, layer-digest lineage against resolved
toolchain images, then the environment and history signatures of the official images
(:mod:`slimgate.analysis.signatures.bases`).

Where the base ends matters: findings inside the base are folded into the base finding,
and the *final stage* (where a build is a finding) starts after it. With lineage the end
is the base's last layer. With an environment signature it is found by walking forward
from the step that set the anchor variable over the base's own steps (patterns in the
signature) until the first step that is not the base's, or the base's CMD/ENTRYPOINT.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import BaseImage, Method
from slimgate.analysis.lineage import KnownBase, Lineage
from slimgate.analysis.patterns import search
from slimgate.analysis.provenance import by_builder, by_program
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.signatures.bases import BASE_SIGNATURES, BaseSignature, Condition
from slimgate.analysis.steps import METADATA
from slimgate.model import BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION

_DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def split_reference(reference: str) -> tuple[str, str]:
    """``(repository path, tag)`` with Docker Hub's ``library/`` prefix removed."""
    name = reference.strip().partition("@")[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    for prefix in _DOCKER_HUB:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    # The official images under ``library/``, also behind mirrors and pull-through caches
    # (``public.ecr.aws/docker/library/python``, ``harbor.example/hub/library/golang``): a
    # whole path segment, never part of one (``mylibrary/golang`` is someone's own image).
    segments = name.split("/")
    for i in range(len(segments) - 2, -1, -1):
        if segments[i] == "library":
            name = "/".join(segments[i + 1 :])
            break
    return name, tag or "latest"


def _names(signature: BaseSignature, path: str) -> bool:
    return path in signature.repositories or any(
        re.fullmatch(pattern, path) for pattern in signature.repository_patterns
    )


def classify_reference(reference: str) -> tuple[BaseSignature, str | None] | None:
    """The signature a reference names and the rule it earns from its tag (None: clean)."""
    path, tag = split_reference(reference)
    for signature in BASE_SIGNATURES:
        if _names(signature, path) and (not signature.tags or search(signature.tags, tag)):
            where = f"{tag} {path.rsplit('/', 1)[-1]}" if signature.repository_patterns else tag
            clean = search(signature.clean_tags, where)
            return signature, None if clean else signature.rule
    return None


def variant_name(signature: BaseSignature, rule: str | None, tag: str) -> str:
    """The display name: the rule's name, or the clean variant named as it is
    (``python (alpine)``, not ``python (slim)``)."""
    if rule is not None:
        return signature.name
    if "alpine" in tag and signature.clean_name.endswith("(slim)"):
        return signature.clean_name.replace("(slim)", "(alpine)")
    return signature.clean_name


def _alpine(steps: Sequence[StepFacts]) -> bool:
    """Built on Alpine: its root filesystem (alpine-minirootfs) or apk in the history."""
    return any(
        "alpine-minirootfs" in facts.step.body or any(c.program == "apk" for c in facts.commands)
        for facts in steps
        if facts.step.instruction in ("ADD", "RUN")
    )


def _matches(patterns: tuple[str, ...], text: str) -> bool:
    return search(patterns, text)


@functools.lru_cache(maxsize=64)  # the signature table's variable names
def _sets(name: str) -> re.Pattern[str]:
    """Where an ``ENV`` body sets ``name``."""
    return re.compile(rf"(?:^|\s){re.escape(name)}[= ]")


def _anchor(steps: Sequence[StepFacts], signature: BaseSignature) -> int | None:
    if signature.env:
        key = _sets(signature.env[0])
        for facts in steps:
            if facts.step.instruction == "ENV" and key.search(facts.step.body):
                return facts.index
        return None
    for facts in steps:
        if _matches(signature.history, facts.text):
            return facts.index
    return None


# Steps of one build follow each other within minutes; an image built FROM a base comes
# hours or days after the base's last step.
_SAME_BUILD = timedelta(minutes=30)


def _moment(text: str | None) -> datetime | None:
    """When a history entry was created; None when unknown or a fixed reproducible-build
    time (1970, 1980), which says nothing about which build made the step."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.year >= 2000 else None


def _same_build(earlier: str | None, later: str | None) -> bool:
    """Whether two steps' times say one build made both: minutes apart, in order."""
    first, second = _moment(earlier), _moment(later)
    if first is None or second is None:
        return False
    return timedelta(0) <= second - first <= _SAME_BUILD


def tail(
    steps: Sequence[StepFacts],
    anchor: int,
    own: tuple[str, ...],
    created: Sequence[str | None] = (),
) -> int:
    """The last step of a base whose anchor step is ``anchor``: its own steps (``own``
    patterns), and between two of them any step made in the same build (the gradle image's
    ``apt-get install make git ...`` sits between its ``GRADLE_HOME`` and its download)."""
    end = anchor
    # one time on every entry (or none) tells no builds apart
    timed = len({text for text in created if text}) >= 2
    previous = created[anchor] if anchor < len(created) else None
    for facts in steps[anchor + 1 :]:
        instruction = facts.step.instruction
        if instruction in ("CMD", "ENTRYPOINT"):
            return facts.index
        time = created[facts.index] if facts.index < len(created) else None
        if _matches(own, facts.text):
            end = facts.index
        elif instruction not in METADATA and not (timed and _same_build(previous, time)):
            break
        previous = time or previous
    return end


def _lineage_end(steps: Sequence[StepFacts], base: KnownBase) -> int | None:
    last_layer = len(base.layers) - 1
    end = None
    for facts in steps:
        if facts.step.layer == last_layer:
            end = facts.index
        elif end is not None:
            if facts.step.instruction not in METADATA or facts.step.layer is not None:
                break
            end = facts.index
    return end


def _applies(signature: BaseSignature, region: Sequence[StepFacts]) -> bool:
    if signature.condition is Condition.ALWAYS:
        return True
    if signature.condition is Condition.KEPT_TOOLCHAIN:
        return any(kept.klass.triggers for facts in region for kept in facts.kept)
    return any(_matches(signature.history, facts.text) for facts in region)


# The signatures the environment and history can recognise (the others are named by
# reference only: a FROM line or an annotation), by position in the table: those that need
# an environment variable under the first one they need, so an image is only checked
# against the signatures whose variable it sets, and those that read the history alone.
_SEARCHED = tuple(s for s in BASE_SIGNATURES if s.env or s.history)


def _env_index(signatures: Sequence[BaseSignature]) -> dict[str, tuple[int, ...]]:
    index: dict[str, list[int]] = {}
    for position, signature in enumerate(signatures):
        if signature.env:
            index.setdefault(signature.env[0], []).append(position)
    return {name: tuple(positions) for name, positions in index.items()}


_BY_ENV = _env_index(_SEARCHED)
_BY_HISTORY = tuple(i for i, s in enumerate(_SEARCHED) if not s.env)
# Their markers, tested first: most images have no step with any of them, and one pass of
# substring tests then rules them all out.
_MARKERS = tuple(s.marker for s in _SEARCHED if not s.env)


def _by_signature(facts: Facts) -> Recognition | None:
    hits: list[StepFacts] | None = None  # the steps with a history-only row's marker
    positions = [*_BY_HISTORY]
    for name in facts.env.keys() & _BY_ENV.keys():
        positions.extend(_BY_ENV[name])
    positions.sort()  # the table's order decides between signatures that both hold
    for position in positions:
        signature = _SEARCHED[position]
        if signature.env and not all(name in facts.env for name in signature.env):
            continue
        candidates: Sequence[StepFacts] = facts.steps
        if not signature.env:
            if hits is None:
                hits = [f for f in facts.steps if any(m in f.text for m in _MARKERS)]
            if not hits:
                continue
            candidates = hits
        anchor = _anchor(candidates, signature)
        if not signature.env and anchor is None:
            continue
        end = (
            tail(facts.steps, anchor, signature.own, facts.created) if anchor is not None else None
        )
        region = facts.steps if end is None else facts.steps[: end + 1]
        applies = _applies(signature, region)
        if signature.env:
            method = Method.ENVIRONMENT
            evidence = " ".join(f"{name}={facts.env[name]}" for name in signature.env)
        else:
            method = Method.HISTORY
            evidence = f"step {anchor} {signature.evidence}"
        rule = signature.rule if applies else None
        variant = "alpine" if rule is None and _alpine(region) else ""
        base = BaseImage(
            name=variant_name(signature, rule, variant),
            ecosystem=signature.ecosystem,
            method=method,
            evidence=evidence,
        )
        return Recognition(
            base, signature.rule if applies else None, signature.ecosystem, end, signature
        )
    return None


def _by_reference(
    facts: Facts, reference: str, method: Method, end: int | None
) -> Recognition | None:
    classified = classify_reference(reference)
    if classified is None:
        return None
    signature, rule = classified
    if end is None and signature.env and all(name in facts.env for name in signature.env):
        anchor = _anchor(facts.steps, signature)
        end = (
            tail(facts.steps, anchor, signature.own, facts.created) if anchor is not None else None
        )
    base = BaseImage(
        name=variant_name(signature, rule, split_reference(reference)[1]),
        ecosystem=signature.ecosystem,
        method=method,
        evidence=f"{BASE_NAME_ANNOTATION}={reference}",
        reference=reference,
    )
    return Recognition(base, rule, signature.ecosystem, end, signature)


def recognise(facts: Facts, annotations: dict[str, str], lineage: Lineage) -> Recognition | None:
    """The base image of ``facts``, or None when nothing identifies it: by annotation or
    label, by lineage, by what a builder wrote into the config (buildpacks, apko, s2i), by
    the official images' environment and history, and last by the program it runs."""
    known = lineage.match(facts.layer_digests)
    digest = annotations.get(BASE_DIGEST_ANNOTATION) or facts.labels.get(BASE_DIGEST_ANNOTATION)
    if known is None and digest:
        known = lineage.by_digest(digest)
    lineage_end = _lineage_end(facts.steps, known) if known is not None else None
    for source, method in ((annotations, Method.ANNOTATION), (facts.labels, Method.LABEL)):
        name = source.get(BASE_NAME_ANNOTATION)
        if name:
            found = _by_reference(facts, name, method, lineage_end)
            if found is not None:
                return found
    if known is not None:
        base = BaseImage(
            name=known.name,
            ecosystem=known.ecosystem,
            method=Method.LINEAGE,
            evidence=f"first {len(known.layers)} layers are {known.reference}",
            reference=known.reference,
        )
        classified = classify_reference(known.reference)
        signature = classified[0] if classified is not None else None
        return Recognition(base, known.rule, known.ecosystem, lineage_end, signature)
    return by_builder(facts) or _by_signature(facts) or by_program(facts)
