"""Bloat cost: the compressed bytes of toolchain and oversize layers, times running replicas.

Per image, the bloat is what the findings say a slim build would drop: each finding's
``saving`` (or, without one, the ``size`` of the layer it names). Findings about the same
layer overlap, so a layer counts once at its largest figure; findings about the whole base
image (no layer) overlap each other the same way. The sum is capped at the image's
compressed size. Every live replica pulls and stores the image on its node, so a
workload's cost is the image's bloat times its replicas.

Only findings the policy keeps count (rules turned ``off`` drop out of the decision);
``oversize-image`` is a symptom of the others and does not add bytes of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slimgate.analysis import rules
from slimgate.audit.results import Evaluated, WorkloadAudit
from slimgate.audit.workloads import WorkloadRef

# Every finding whose layers a slim build would not ship. A whole image over the size
# threshold is not bloat by itself, and an image that was not evaluated has none to count.
BLOAT_RULES = frozenset(rules.RULE_IDS) - {rules.OVERSIZE_IMAGE} - rules.UNEVALUATED

MEGABYTE = 1_000_000


def megabytes(size: int) -> float:
    return size / MEGABYTE


def megabytes_text(size: int) -> str:
    """``1,234.5 MB``: bytes as people read them in the tables and the page."""
    return f"{megabytes(size):,.1f} MB"


def bloat_bytes(result: Evaluated) -> int:
    """Compressed bytes of ``result``'s image that a slim build would not ship."""
    if result.metadata is None:
        return 0
    per_layer: dict[int, int] = {}
    whole = 0
    for decided in result.decision.findings:
        finding = decided.finding
        if finding.rule not in BLOAT_RULES:
            continue
        amount = finding.saving if finding.saving is not None else (finding.size or 0)
        if finding.layer is None:
            whole = max(whole, amount)
        else:
            per_layer[finding.layer] = max(per_layer.get(finding.layer, 0), amount)
    return min(result.metadata.compressed_size, whole + sum(per_layer.values()))


@dataclass(frozen=True, slots=True)
class Remedy:
    """A remediation and what it saves per pulled image."""

    rule: str
    text: str
    saving: int  # compressed bytes per image


@dataclass(frozen=True, slots=True)
class Offender:
    """An image that carries bloat, with everyone who runs it and what fixing it saves."""

    image: str
    digest: str | None
    bloat: int  # bytes per replica
    replicas: int
    workloads: tuple[WorkloadRef, ...]
    remedies: tuple[Remedy, ...]
    compressed_size: int
    exempt: bool = False

    @property
    def cost(self) -> int:
        return self.bloat * self.replicas

    @property
    def multi_stage_fix(self) -> bool:
        """Whether a multi-stage build removes some of it (what ``slimgate fix`` writes)."""
        return any(r.rule in rules.MULTI_STAGE_FIXES for r in self.remedies)


def workload_cost(audit: WorkloadAudit) -> int:
    return sum(bloat_bytes(c.result) * c.replicas for c in audit.containers)


def _remedies(result: Evaluated) -> tuple[Remedy, ...]:
    """Each distinct remediation once, with the largest saving any finding gives it."""
    best: dict[str, Remedy] = {}
    for decided in result.decision.findings:
        finding = decided.finding
        if not finding.remediation:
            continue
        amount = finding.saving if finding.saving is not None else (finding.size or 0)
        known = best.get(finding.remediation)
        if known is None or amount > known.saving:
            best[finding.remediation] = Remedy(finding.rule, finding.remediation, amount)
    return tuple(sorted(best.values(), key=lambda r: (-r.saving, r.rule, r.text)))


def offenders(audits: Iterable[WorkloadAudit], top: int | None = 10) -> tuple[Offender, ...]:
    """Images with bloat, largest cost first (ties: larger bloat, then name)."""
    grouped: dict[str, tuple[Evaluated, list[WorkloadRef], int]] = {}
    for audit in audits:
        for container in audit.containers:
            result = container.result
            if bloat_bytes(result) == 0:
                continue
            key = container.digest or result.image
            first, refs, replicas = grouped.get(key) or (result, [], 0)
            if audit.workload.ref not in refs:
                refs.append(audit.workload.ref)
            grouped[key] = (first, refs, replicas + container.replicas)
    found = [
        Offender(
            image=result.image,
            digest=result.metadata.digest if result.metadata else None,
            bloat=bloat_bytes(result),
            replicas=replicas,
            workloads=tuple(sorted(refs)),
            remedies=_remedies(result),
            compressed_size=result.metadata.compressed_size if result.metadata else 0,
            exempt=result.decision.exemption is not None,
        )
        for result, refs, replicas in grouped.values()
    ]
    found.sort(key=lambda o: (-o.cost, -o.bloat, o.image))
    return tuple(found if top is None else found[:top])
