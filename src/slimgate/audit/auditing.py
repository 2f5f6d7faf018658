"""Evaluate workloads: every container image through the engine, each distinct subject once.

Both drivers call :func:`audit_workloads` with the engine's ``evaluate`` bound to their
platforms, and with their own ``map`` (a thread pool's, to evaluate several images at
once). Within one call an image is evaluated once per namespace, label set, pull access
and placement — what exemptions, registry credentials and node platforms can tell apart —
however many workloads run it; the registry client underneath fetches each digest once
across calls. ``evaluate`` gets the workload's pull access (ServiceAccount and
``imagePullSecrets``), or None, and its placement (``nodeSelector`` and required node
affinity); a driver that reads pull secrets looks the image up with them, one that reads
the nodes' platforms (``registry.platforms: auto``) narrows them by the placement, the
others ignore both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from slimgate.audit.results import ContainerAudit, Evaluated, WorkloadAudit
from slimgate.audit.workloads import Workload
from slimgate.kube.placement import Placement
from slimgate.kube.workloads import PullAccess
from slimgate.model import Subject

Evaluate = Callable[[str, Subject, PullAccess | None, Placement], Evaluated]
Key = tuple[str, str | None, tuple[tuple[str, str], ...], PullAccess | None, Placement]
MapFunction = Callable[[Callable[["Job"], Evaluated], Iterable["Job"]], Iterator[Evaluated]]


@dataclass(frozen=True, slots=True)
class Job:
    image: str
    subject: Subject
    access: PullAccess | None
    placement: Placement


def _key(image: str, subject: Subject, workload: Workload) -> Key:
    labels = tuple(sorted(subject.labels.items()))
    return (image, subject.namespace, labels, workload.access, workload.placement)


def subject_of(workload: Workload, container: str) -> Subject:
    ref = workload.ref
    return Subject(
        namespace=ref.namespace,
        labels=dict(workload.labels),
        workload=f"{ref.kind}/{ref.name}",
        container=container,
    )


def plan(
    workloads: Iterable[Workload], known: Mapping[Key, Evaluated] | None = None
) -> dict[Key, Job]:
    """The evaluations :func:`audit_workloads` will run: one per distinct key not ``known``."""
    jobs: dict[Key, Job] = {}
    for workload in workloads:
        for container in workload.images:
            subject = subject_of(workload, container.container)
            key = _key(container.image, subject, workload)
            if key not in jobs and (known is None or key not in known):
                jobs[key] = Job(container.image, subject, workload.access, workload.placement)
    return jobs


def audit_workloads(
    workloads: Iterable[Workload],
    evaluate: Evaluate,
    *,
    map_: MapFunction | None = None,
    known: Mapping[Key, Evaluated] | None = None,
) -> tuple[WorkloadAudit, ...]:
    """Evaluate each workload's container images; results in the workloads' order.

    ``known`` holds results from earlier calls (the operator's cache between scans); they
    are reused and not evaluated again.
    """
    listed = list(workloads)
    jobs = plan(listed, known)
    run = map_ or map
    results: dict[Key, Evaluated] = dict(known or {})
    evaluated = run(
        lambda job: evaluate(job.image, job.subject, job.access, job.placement), list(jobs.values())
    )
    results.update(zip(jobs, evaluated, strict=True))
    audits = []
    for workload in listed:
        containers = tuple(
            ContainerAudit(
                container=container,
                result=results[
                    _key(container.image, subject_of(workload, container.container), workload)
                ],
                replicas=workload.containers.get(container, 0),
            )
            for container in workload.images
        )
        audits.append(WorkloadAudit(workload, containers))
    return tuple(audits)


def evaluation_keys(
    audits: Iterable[WorkloadAudit],
) -> dict[Key, Evaluated]:
    """The results of ``audits`` keyed as :func:`audit_workloads` keys them (for ``known``)."""
    out: dict[Key, Evaluated] = {}
    for audit in audits:
        for container in audit.containers:
            subject = subject_of(audit.workload, container.container.container)
            key = _key(container.result.image, subject, audit.workload)
            out[key] = container.result
    return out
