"""sdk-copied: an SDK that arrives by COPY/ADD or by downloading an archive in a RUN.

``golang:alpine`` has no compiler install line at all: its Go SDK is one ``COPY /target/ /``
of some 70 MB. Applications do the same with ``COPY --from=golang:1.22 /usr/local/go
/usr/local/go`` or ``curl .../go1.22.5.linux-amd64.tar.gz | tar -C /usr/local -xz``. The
signatures are in :mod:`slimgate.analysis.signatures.sdks`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from slimgate.analysis import rules
from slimgate.analysis.base import classify_reference
from slimgate.analysis.facts import Facts, StepFacts
from slimgate.analysis.findings import Finding
from slimgate.analysis.messages import fit, megabytes
from slimgate.analysis.patterns import search, union
from slimgate.analysis.shell import Command
from slimgate.analysis.signatures.remediations import remediation_for
from slimgate.analysis.signatures.sdks import SDK_SIGNATURES, SdkSignature
from slimgate.analysis.stage import Scope
from slimgate.analysis.step_finding import step_finding


def _removed_later(commands: Sequence[Command], position: int) -> bool:
    """True when a later ``rm`` in the step deletes a path the download wrote to.

    ruby:slim downloads rustup into /tmp/rust to build YJIT and ``rm -rf /tmp/rust`` in
    the same RUN: nothing of it reaches the layer.
    """
    written = [
        arg.rstrip("/")
        for command in commands[position : position + 2]
        for arg in command.argv[1:]
        if arg.startswith("/")
    ]
    for command in commands[position + 1 :]:
        if command.program != "rm":
            continue
        for arg in command.argv[1:]:
            target = arg.rstrip("/")
            if (
                target.startswith("/")
                and target.count("/") > 1
                and any(path == target or path.startswith(target + "/") for path in written)
            ):
                return True
    return False


# Every signature's paths, and every signature's URLs, as one pattern each: most steps
# match none, and are done with one search (or one per command) instead of one per row.
_ANY_PATH = union(tuple(p for signature in SDK_SIGNATURES for p in signature.paths))
_ANY_URL = union(tuple(u for signature in SDK_SIGNATURES for u in signature.urls))


_FROM_IMAGE = re.compile(r"(?:^|\s)--from=(\S*[:/@]\S*)")
_JAVA_HOME = re.compile(r"openjdk|/usr/lib/jvm|JAVA_HOME")
_JDK = next(signature for signature in SDK_SIGNATURES if signature.rule == rules.JDK_RUNTIME)
# A built image's history drops COPY's --from=<image>, so a Java home copied in reads the
# same for a JDK and a JRE; the layer's size tells them apart. The smallest full JDK layer
# is about 100 MB compressed (Temurin 8), Temurin 21's is 150.8 MB and its JRE's 50.6 MB
# (docker-library repo-info, tests/fixtures/corpus/eclipse-temurin-21-*.json); a jlink
# runtime is smaller still. Below this size, a Java home copied in is not a full JDK.
JDK_MIN_BYTES = 80 * 1024 * 1024


def _java_source(body: str) -> bool | None:
    """Whether ``COPY --from=<image>`` copies a JDK, by what the image is: True for a JDK
    image (``eclipse-temurin:21-jdk``), False for a JRE (``eclipse-temurin:21-jre``), None
    when the source is a stage or not a Java image (then only the paths can tell)."""
    found = _FROM_IMAGE.search(body) if "--from=" in body else None
    if found is None or not _JAVA_HOME.search(body):
        return None
    classified = classify_reference(found.group(1))
    if classified is None or classified[0].family != "java":
        return None
    return classified[1] == rules.JDK_RUNTIME


def _too_small_for_a_jdk(step: StepFacts) -> bool:
    """A COPY whose layer is known and smaller than any full JDK (a JRE or a jlink
    runtime copied into a built image, whose history no longer names the source image)."""
    size = step.step.size
    return step.step.instruction == "COPY" and size is not None and 0 < size < JDK_MIN_BYTES


def _match(step: StepFacts) -> tuple[SdkSignature, str] | None:
    """The first signature (in table order) the step copies or downloads, and the verb."""
    instruction = step.step.instruction
    if instruction in ("COPY", "ADD"):
        body = step.step.body
        java = _java_source(body)
        if java:
            return _JDK, "copies"
        paths = _ANY_PATH.search(body) is not None
        urls = instruction == "ADD" and _ANY_URL.search(body) is not None
        for signature in SDK_SIGNATURES if paths or urls else ():
            if signature is _JDK and (java is False or _too_small_for_a_jdk(step)):
                continue  # a Java home copied from a JRE image is a JRE, whatever its path
            if paths and search(signature.paths, body):
                return signature, "copies"
            if urls and search(signature.urls, body):
                return signature, "downloads"
    elif instruction == "RUN":
        # each command's words, joined once; only those some signature's URL is in
        texts = [
            (position, text)
            for position, command in enumerate(step.commands)
            if command.program not in ("echo", "printf")
            and _ANY_URL.search(text := " ".join(command.argv[1:])) is not None
        ]
        for signature in SDK_SIGNATURES if texts else ():
            for position, text in texts:
                if search(signature.urls, text) and not _removed_later(step.commands, position):
                    return signature, "downloads"
    return None


def sdk_findings(facts: Facts, scope: Scope) -> list[Finding]:
    findings: list[Finding] = []
    for step in facts.steps:
        if scope.folded(step.index):
            continue
        matched = _match(step)
        if matched is None:
            continue
        signature, verb = matched
        remedy = remediation_for(signature.ecosystem)
        where = step.step.where
        size = step.step.size
        saving = int(size * (1 - remedy.retained_fraction)) if size else None
        tail = f" (~{megabytes(size)})" if size else ""
        message = fit(
            f"{where} {verb} the {signature.name}{tail}; {remedy.advice}",
            f"{where} {verb} the {signature.name}{tail}",
        )
        findings.append(step_finding(signature.rule, step, message, remedy, facts, saving=saving))
    return findings
