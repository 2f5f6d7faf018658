"""Recognise images built without a Dockerfile from what their builder wrote in the config.

Buildpacks, apko and Red Hat's s2i/UBI images carry their identity in labels, the
environment and the entrypoint (table: :mod:`slimgate.analysis.signatures.images`);
buildpacks app images also in ``io.buildpacks.lifecycle.metadata`` and their history
(:mod:`slimgate.analysis.buildpacks`). The recognition says which evidence it used; where
the metadata cannot tell (an apko Java image without a title), it says that too and makes
no finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from slimgate.analysis.buildpacks import APP_ENV, app_recognition
from slimgate.analysis.facts import Facts
from slimgate.analysis.findings import BaseImage, Method
from slimgate.analysis.recognition import Recognition
from slimgate.analysis.signatures.images import IMAGE_SIGNATURES, JAVA_LAUNCHERS, ImageSignature

_EVIDENCE_VALUE = 48  # characters of a label value quoted as evidence
_pattern = functools.lru_cache(maxsize=256)(re.compile)  # the table's patterns, compiled once


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
        if value is None or _pattern(pattern, re.DOTALL).fullmatch(value.strip()) is None:
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
        if value is None or _pattern(pattern).fullmatch(value) is None:
            return None
        said.append(f"{name}={_quote(value)}")
    if signature.program:
        if not program or _pattern(signature.program).fullmatch(program) is None:
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


def _index(rows: Iterable[ImageSignature], by_label: bool) -> dict[str, tuple[int, ...]]:
    """Row positions by the first label they need (``by_label``) or, for rows without
    labels, the first environment variable: an image is only checked against the rows
    whose key it has, and most images have none of them."""
    keys: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        if bool(row.labels) == by_label:
            keys.setdefault(row.labels[0][0] if by_label else row.env[0], []).append(position)
    return {name: tuple(found) for name, found in keys.items()}


_BUILDER_ROWS = tuple(s for s in IMAGE_SIGNATURES if s.builder != "config")
_PROGRAM_ROWS = tuple(s for s in IMAGE_SIGNATURES if s.builder == "config")
_BY_LABEL = _index(_BUILDER_ROWS, by_label=True)
_BY_ENV = _index(_BUILDER_ROWS, by_label=False)
# Any program a row names: most images run none of them, and are done with one match.
_ANY_PROGRAM = re.compile("|".join(f"(?:{row.program})" for row in _PROGRAM_ROWS))


def _first(
    rows: tuple[ImageSignature, ...], positions: Iterable[int], facts: Facts
) -> Recognition | None:
    program = program_of(facts)
    for position in sorted(positions):
        evidence = _holds(rows[position], facts, program)
        if evidence is not None:
            return _recognition(rows[position], evidence, facts)
    return None


# Environment names any builder reading looks at; an image with none of them, no label and
# no builder signature in its history is done with one set intersection.
_ENV_KEYS = frozenset({*_BY_ENV, *APP_ENV, "JAVA_HOME"})


def by_builder(facts: Facts) -> Recognition | None:
    """What a builder's own labels and history say the image is (before the generic
    environment signatures, which would misread these images)."""
    if not facts.labels and facts.builder is None and not facts.env.keys() & _ENV_KEYS:
        return None
    app = app_recognition(facts)
    if app is not None:
        return app
    labels, env = facts.labels, facts.env
    positions = [p for name in labels.keys() & _BY_LABEL.keys() for p in _BY_LABEL[name]]
    positions.extend(p for name in env.keys() & _BY_ENV.keys() for p in _BY_ENV[name])
    found = _first(_BUILDER_ROWS, positions, facts) if positions else None
    if found is not None:
        return found
    if facts.builder == "apko" and "JAVA_HOME" in env:
        return _cannot_tell_java(facts)
    return None


def by_program(facts: Facts) -> Recognition | None:
    """An image whose entrypoint or command is a compiler or build tool (the fallback)."""
    program = program_of(facts)
    if not program or _ANY_PROGRAM.fullmatch(program) is None:
        return None
    return _first(_PROGRAM_ROWS, range(len(_PROGRAM_ROWS)), facts)


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
