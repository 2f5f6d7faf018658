"""Recognise images built without a Dockerfile from what their builder wrote in the config.

Buildpacks, apko and Red Hat's s2i/UBI images carry their identity in labels, the
environment and the entrypoint (table: :mod:`slimgate.analysis.signatures.images`);
buildpacks app images also in ``io.buildpacks.lifecycle.metadata`` and their history
(:mod:`slimgate.analysis.buildpacks`). The recognition says which evidence it used; where
the metadata cannot tell (an apko Java image without a title), it says that too and makes
no finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from slimgate.analysis.buildpacks import app_recognition
from slimgate.analysis.facts import Facts
from slimgate.analysis.findings import BaseImage, Method
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.signatures.images import IMAGE_SIGNATURES, JAVA_LAUNCHERS, ImageSignature

_EVIDENCE_VALUE = 48  # characters of a label value quoted as evidence


def program_of(facts: Facts) -> str:
    """The program the image runs: the entrypoint's, else the command's, without its
    directory (``/usr/bin/go`` -> ``go``)."""
    argv = facts.entrypoint or facts.cmd
    return argv[0].rsplit("/", 1)[-1] if argv else ""


def _quote(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _EVIDENCE_VALUE else value[: _EVIDENCE_VALUE - 1] + "…"


def _holds(signature: ImageSignature, facts: Facts, program: str) -> str | None:
    """The evidence when every part of ``signature`` holds, else None."""
    said: list[str] = []
    for label, pattern in signature.labels:
        value = facts.labels.get(label)
        if value is None or re.fullmatch(pattern, value.strip(), re.DOTALL) is None:
            return None
        said.append(f"label {label}={_quote(value)}")
    for name in signature.env:
        if name not in facts.env:
            return None
        said.append(f"{name}={_quote(facts.env[name])}")
    if any(name in facts.env for name in signature.env_absent):
        return None
    for name, pattern in signature.env_values:
        value = facts.env.get(name)
        if value is None or re.fullmatch(pattern, value) is None:
            return None
        said.append(f"{name}={_quote(value)}")
    if signature.program:
        if not program or re.fullmatch(signature.program, program) is None:
            return None
        argv = facts.entrypoint or facts.cmd
        said.append(f"{'entrypoint' if facts.entrypoint else 'cmd'} {_quote(' '.join(argv))}")
    return "; ".join(said) if said else None


def _recognition(signature: ImageSignature, evidence: str, facts: Facts) -> Recognition:
    method = Method.LABEL if signature.labels else Method.CONFIG
    base = BaseImage(
        name=signature.name, ecosystem=signature.ecosystem, method=method, evidence=evidence
    )
    layers = tuple(range(len(facts.layer_sizes))) if signature.whole_image else None
    return Recognition(
        base,
        signature.rule,
        signature.ecosystem,
        len(facts.steps) - 1 if signature.whole_image else None,
        remedy="nix" if facts.builder == "nix" and signature.rule else signature.remedy,
        layers=layers,
        builder=signature.builder,
    )


def _first(signatures: Iterable[ImageSignature], facts: Facts) -> Recognition | None:
    program = program_of(facts)
    for signature in signatures:
        evidence = _holds(signature, facts, program)
        if evidence is not None:
            return _recognition(signature, evidence, facts)
    return None


def by_builder(facts: Facts) -> Recognition | None:
    """What a builder's own labels and history say the image is (before the generic
    environment signatures, which would misread these images)."""
    app = app_recognition(facts)
    if app is not None:
        return app
    found = _first((s for s in IMAGE_SIGNATURES if s.builder != "config"), facts)
    if found is not None:
        return found
    if facts.builder == "apko" and "JAVA_HOME" in facts.env:
        return _cannot_tell_java(facts)
    return None


def by_program(facts: Facts) -> Recognition | None:
    """An image whose entrypoint or command is a compiler or build tool (the fallback)."""
    return _first((s for s in IMAGE_SIGNATURES if s.builder == "config"), facts)


def _cannot_tell_java(facts: Facts) -> Recognition:
    program = program_of(facts)
    runs = f"; runs {program}" if program in JAVA_LAUNCHERS else ""
    base = BaseImage(
        name="Java (JDK or JRE: metadata cannot tell)",
        ecosystem="java",
        method=Method.ENVIRONMENT,
        evidence=(
            f"apko image with JAVA_HOME={_quote(facts.env['JAVA_HOME'])} and no title label"
            f"{runs}; the config does not say whether it is a JDK or a JRE"
        ),
    )
    return Recognition(base, None, "java", None, builder="apko")
