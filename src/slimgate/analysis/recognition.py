"""A recognised base image: what it is, the rule it earns and where its layers end."""

from __future__ import annotations

from dataclasses import dataclass

from slimgate.analysis.findings import BaseImage
from slimgate.analysis.signatures.bases import BaseSignature


@dataclass(frozen=True, slots=True)
class Recognition:
    """A recognised base, the rule it earns (None when clean) and its last step.

    ``layers`` lists the layers that carry the toolchain when the evidence says which
    (a buildpack's ``jdk`` launch layer; every layer of an image that *is* a builder);
    otherwise the base rule finds them in the base's steps. ``remedy`` is the remediation
    key when it is not the signature's or the ecosystem's; ``builder`` names the tool that
    built the image when its config says so.
    """

    base: BaseImage
    rule: str | None
    ecosystem: str
    end: int | None  # index of the base's last step; None when unknown
    signature: BaseSignature | None = None
    remedy: str = ""
    layers: tuple[int, ...] | None = None
    builder: str | None = None
