"""Today's image against the fixed one, in compressed bytes.

Each side is its base image (the recorded figure of its family, :mod:`slimgate.fix.sizes`)
plus the application layers slimgate can weigh before a build: what the Dockerfile copies
from the build context, measured by the caller as a compressed size. Today's image carries
those layers; the runtime image carries them only when it ships the sources (interpreted
languages) or is the same single stage on another base. What neither side can weigh before
the image is built (the binary, the dependencies a RUN downloads) is listed, not guessed.
"""

from __future__ import annotations

from slimgate.analysis.dockerfile_model import substitute
from slimgate.fix.files import ProjectFiles
from slimgate.fix.model import Estimate, Part, approximate
from slimgate.fix.original import Original
from slimgate.fix.shape import Shape
from slimgate.fix.sizes import recorded_for

CONTEXT_LABEL = "application layers copied from the build context"


def base_part(reference: str) -> Part:
    recorded = recorded_for(reference)
    if recorded is None:
        return Part(reference, None, "no recorded size for this image")
    label = reference
    if recorded.reference != reference.split("@")[0]:
        label = f"{reference} (figure of {recorded.reference})"
    return Part(label, recorded.size, recorded.source)


def copied_sources(original: Original) -> tuple[str, ...]:
    sources: list[str] = []
    for _, copy in original.copies:
        if "from" in copy.flags:
            continue
        for source in copy.sources:
            if "://" in source or source.startswith("<<"):
                continue
            if source not in sources:
                sources.append(source)
    return tuple(sources)


def estimate(original: Original, shape: Shape, files: ProjectFiles) -> Estimate:
    assert shape.runtime is not None
    runtime_base = substitute(shape.runtime.base, original.dockerfile.args)
    before = [base_part(original.base)]
    after = [base_part(runtime_base)]
    not_counted = list(shape.not_counted)
    sources = copied_sources(original)
    if sources:
        size = files.compressed_size(sources)
        if size is None:
            not_counted.append("the files copied from the build context (not measured)")
        else:
            part = Part(
                CONTEXT_LABEL, size, f"measured: {', '.join(sources)} ({approximate(size)})"
            )
            before.append(part)
            if shape.ships_context or shape.swap:  # one stage: the same copies
                after.append(part)
    not_counted.append("what RUN steps download or build (in today's image as well)")
    return Estimate(tuple(before), tuple(after), tuple(not_counted))
