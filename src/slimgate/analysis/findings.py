"""What the analysis produces: findings, each explained well enough to act on.

A finding's ``message`` becomes a Kubernetes warning, so it is one line of at most
``MAX_MESSAGE`` characters. The rest (base, layer, size, command, remediation, saving)
is evidence for the deny message, the CLI table and the PolicyReport properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_MESSAGE = 120


class Severity(StrEnum):
    """PolicyReport severities (wgpolicyk8s.io/v1alpha2)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Method(StrEnum):
    """How a base image was recognised, strongest first."""

    ANNOTATION = "annotation"
    LABEL = "label"
    LINEAGE = "lineage"
    ENVIRONMENT = "environment"
    HISTORY = "history"
    CONFIG = "config"  # the entrypoint, command or environment of the image config
    DOCKERFILE = "dockerfile"  # named by the FROM line of a Dockerfile being linted


@dataclass(frozen=True, slots=True)
class BaseImage:
    """A recognised base image and how we know it."""

    name: str  # "golang", "node (full)", "eclipse-temurin JDK"
    ecosystem: str  # "go", "node", "java", ...
    method: Method
    evidence: str  # "GOLANG_VERSION=1.22.5 and PATH contains /usr/local/go/bin"
    reference: str | None = None  # "golang:1.22" when known


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason an image is bloated, with the evidence and the fix."""

    rule: str
    severity: Severity
    message: str  # one line, <= MAX_MESSAGE characters
    base: BaseImage | None = None
    layer: int | None = None
    size: int | None = None  # compressed bytes of the layer(s) concerned
    created_by: str | None = None  # shortened history text
    remediation: str | None = None
    saving: int | None = None  # compressed bytes a multi-stage build would drop
    source: str | None = None  # org.opencontainers.image.source, when the image has one

    def __post_init__(self) -> None:
        if "\n" in self.message or len(self.message) > MAX_MESSAGE:
            raise ValueError(f"finding message must be one line <= {MAX_MESSAGE}: {self.message!r}")


@dataclass(frozen=True, slots=True)
class Analysis:
    """The findings for one image, and the base it was built on when we recognised it.

    ``too_complex`` says which analysis limit the image passed, when it did: the analysis
    stopped there and ``findings`` holds the one ``too-complex`` finding.
    """

    findings: tuple[Finding, ...]
    base: BaseImage | None
    compressed_size: int
    too_complex: str | None = None
    # What the analysis could not judge, for people to read (a Dockerfile that would not
    # build); notes change no decision.
    notes: tuple[str, ...] = ()
