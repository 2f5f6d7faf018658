"""An evaluated workload: each container image with the engine's result and its replica count.

The engine's :class:`slimgate.evaluation.ImageResult` is read through the small
:class:`Evaluated` protocol, so this package depends on what it reads, not on how the
evaluator builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slimgate.analysis.findings import Analysis
from slimgate.audit.workloads import ContainerImage, Workload
from slimgate.model import ImageMetadata
from slimgate.policy.decision import Decision


class Evaluated(Protocol):
    """The parts of an ``ImageResult`` the reports read."""

    @property
    def image(self) -> str: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def metadata(self) -> ImageMetadata | None: ...

    @property
    def analysis(self) -> Analysis | None: ...

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ContainerAudit:
    """One container image of a workload, evaluated."""

    container: ContainerImage
    result: Evaluated
    replicas: int  # live pods running this container image

    @property
    def digest(self) -> str | None:
        metadata = self.result.metadata
        return metadata.digest if metadata is not None else None

    @property
    def compressed_size(self) -> int | None:
        metadata = self.result.metadata
        return metadata.compressed_size if metadata is not None else None


@dataclass(frozen=True, slots=True)
class WorkloadAudit:
    """A workload with every container image it runs evaluated."""

    workload: Workload
    containers: tuple[ContainerAudit, ...]

    @property
    def namespace(self) -> str:
        return self.workload.ref.namespace
