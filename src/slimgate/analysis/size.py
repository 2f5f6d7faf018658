"""oversize-layer and oversize-image: compressed sizes over the configured thresholds.

Sizes are the compressed sizes the manifest lists (what a node pulls), not the unpacked
size on disk; messages say "compressed". Each layer is tied to the history entry that made
it (:func:`slimgate.analysis.pairing.paired`, which also undoes rules_docker's order).
"""

from __future__ import annotations

from slimgate.analysis import rules
from slimgate.analysis.findings import Finding
from slimgate.analysis.knowledge import Knowledge
from slimgate.analysis.messages import fit, megabytes, shorten
from slimgate.analysis.pairing import paired
from slimgate.model import ImageMetadata


def size_findings(image: ImageMetadata, knowledge: Knowledge, source: str | None) -> list[Finding]:
    findings: list[Finding] = []
    limit = knowledge.layer_bytes
    made: dict[int, str] = {}
    if any(layer.size > limit for layer in image.layers):
        made = {
            index: entry.created_by or entry.comment or ""
            for entry, index in paired(image)
            if index is not None
        }
    for index, layer in enumerate(image.layers):
        if layer.size <= limit:
            continue
        made_by = shorten(made[index]) if made.get(index) else None
        what = f"layer {index} is {megabytes(layer.size)} compressed (> {megabytes(limit)})"
        findings.append(
            Finding(
                rule=rules.OVERSIZE_LAYER,
                severity=rules.severity_of(rules.OVERSIZE_LAYER),
                message=fit(f"{what}: {made_by}" if made_by else what, what),
                layer=index,
                size=layer.size,
                created_by=made_by,
                source=source,
            )
        )
    total = image.compressed_size
    if total > knowledge.image_bytes:
        findings.append(
            Finding(
                rule=rules.OVERSIZE_IMAGE,
                severity=rules.severity_of(rules.OVERSIZE_IMAGE),
                message=fit(
                    f"image is {megabytes(total)} compressed "
                    f"(> {megabytes(knowledge.image_bytes)}) in {len(image.layers)} layers"
                ),
                size=total,
                source=source,
            )
        )
    return findings
