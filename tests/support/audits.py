"""Small builders of evaluated images and workloads for the audit, reports and operator tests.

``Result`` stands in for the engine's ImageResult through the audit model's ``Evaluated``
protocol (our own seam); findings, decisions and metadata are the real value types.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from slimgate.analysis.findings import Analysis, BaseImage, Finding, Method, Severity
from slimgate.audit.results import ContainerAudit, WorkloadAudit
from slimgate.audit.workloads import ContainerImage, Workload, WorkloadRef
from slimgate.model import DOCKER_MANIFEST, Descriptor, ImageConfig, ImageMetadata, Platform
from slimgate.policy.decision import (
    DecidedFinding,
    Decision,
    Exemption,
    Mode,
    RuleAction,
    Verdict,
)

MB = 1_000_000
GOLANG = BaseImage(
    name="golang",
    ecosystem="go",
    method=Method.ENVIRONMENT,
    evidence="GOLANG_VERSION=1.23.1",
    reference="golang:1.23",
)


def metadata(image: str, layers: tuple[int, ...], digest: str | None = None) -> ImageMetadata:
    return ImageMetadata(
        reference=image,
        digest=digest or "sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        platform=Platform(),
        media_type=DOCKER_MANIFEST,
        config_digest="sha256:" + "c" * 64,
        layers=tuple(
            Descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", f"sha256:{i:064x}", s)
            for i, s in enumerate(layers)
        ),
        config=ImageConfig(),
    )


def toolchain(saving: int = 300 * MB, action: RuleAction = RuleAction.DENY) -> DecidedFinding:
    finding = Finding(
        rule="toolchain-base",
        severity=Severity.HIGH,
        message="built FROM golang:1.23: the Go toolchain ships with the app",
        base=GOLANG,
        size=saving,
        remediation="build in golang:1.23, copy the binary into gcr.io/distroless/static",
        saving=saving,
    )
    return DecidedFinding(finding, action)


def oversize_layer(layer: int, size: int, action: RuleAction = RuleAction.WARN) -> DecidedFinding:
    finding = Finding(
        rule="oversize-layer",
        severity=Severity.MEDIUM,
        message=f"layer {layer} is {size // MB} MB compressed",
        layer=layer,
        size=size,
        created_by="COPY . /src",
        remediation="add a .dockerignore",
        saving=size,
    )
    return DecidedFinding(finding, action)


@dataclass(frozen=True, slots=True)
class Result:
    image: str
    decision: Decision
    metadata: ImageMetadata | None
    analysis: Analysis | None = None
    error: str | None = None


def decision(
    *findings: DecidedFinding, exemption: Exemption | None = None, mode: Mode = Mode.ENFORCE
) -> Decision:
    worst = Verdict.worst(
        [Verdict.DENY if d.action == RuleAction.DENY else Verdict.WARN for d in findings]
    )
    verdict = Verdict.ALLOW if exemption else worst
    return Decision(verdict, worst, mode, tuple(findings), exemption)


def result(
    image: str,
    *findings: DecidedFinding,
    layers: tuple[int, ...] = (30 * MB, 300 * MB, 5 * MB),
    exemption: Exemption | None = None,
    digest: str | None = None,
) -> Result:
    meta = metadata(image, layers, digest)
    base = GOLANG if any(d.finding.rule == "toolchain-base" for d in findings) else None
    analysis = Analysis(
        findings=tuple(d.finding for d in findings),
        base=base,
        compressed_size=meta.compressed_size,
    )
    return Result(image, decision(*findings, exemption=exemption), meta, analysis)


def unreadable(image: str, reason: str = "connection refused") -> Result:
    finding = Finding(rule="registry-error", severity=Severity.MEDIUM, message=reason)
    return Result(
        image,
        Decision(
            Verdict.WARN,
            Verdict.WARN,
            Mode.ENFORCE,
            (DecidedFinding(finding, RuleAction.WARN),),
        ),
        None,
        None,
        reason,
    )


@dataclass
class WorkloadBuilder:
    namespace: str
    kind: str
    name: str
    containers: list[tuple[str, Result, int]] = field(default_factory=list)

    def run(self, container: str, res: Result, replicas: int = 1) -> WorkloadBuilder:
        self.containers.append((container, res, replicas))
        return self

    def build(self) -> WorkloadAudit:
        api = {"Deployment": "apps/v1", "CronJob": "batch/v1"}.get(self.kind, "v1")
        ref = WorkloadRef(self.namespace, self.kind, self.name, api, uid=f"uid-{self.name}")
        counts = {
            ContainerImage(c, r.image, f"spec.containers[{i}].image"): n
            for i, (c, r, n) in enumerate(self.containers)
        }
        replicas = max((n for _, _, n in self.containers), default=0)
        workload = Workload(ref, counts, {"app": self.name}, replicas, replicas)
        audits = tuple(
            ContainerAudit(ContainerImage(c, r.image, f"spec.containers[{i}].image"), r, n)
            for i, (c, r, n) in enumerate(self.containers)
        )
        return WorkloadAudit(workload, audits)


def workload(namespace: str, kind: str, name: str) -> WorkloadBuilder:
    return WorkloadBuilder(namespace, kind, name)
