"""The audit pipeline over a real registry: each image fetched once, however many pods run it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slimgate.audit.owners import OwnedObject
from slimgate.audit.workloads import ContainerImage, OwnerReference, PodRecord, WorkloadRef
from slimgate.cli.audit import audit_pods
from slimgate.config import parse_settings
from slimgate.registry import RegistryClient
from slimgate.wiring import build_engines
from tests.support.registry_server import RegistryServer

from .scenario import Images, config_text, push_images

pytestmark = pytest.mark.registry


@pytest.fixture(scope="module")
def images(plain_registry: RegistryServer) -> Images:
    return push_images(plain_registry.url, plain_registry.host)


class Owners:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], OwnedObject] = {}

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        return self.objects.get((namespace, owner.kind, owner.name))

    def deployment(self, namespace: str, name: str) -> OwnerReference:
        rs = f"{name}-abc"
        self.objects[(namespace, "Deployment", name)] = OwnedObject(
            WorkloadRef(namespace, "Deployment", name, "apps/v1", f"uid-{name}")
        )
        self.objects[(namespace, "ReplicaSet", rs)] = OwnedObject(
            WorkloadRef(namespace, "ReplicaSet", rs, "apps/v1", f"uid-{rs}"),
            (OwnerReference("apps/v1", "Deployment", name, f"uid-{name}", True),),
        )
        return OwnerReference("apps/v1", "ReplicaSet", rs, f"uid-{rs}", True)


def _pods(owners: Owners, namespace: str, name: str, image: str, count: int) -> list[PodRecord]:
    rs = owners.deployment(namespace, name)
    return [
        PodRecord(
            namespace,
            f"{name}-{i}",
            f"uid-{name}-{i}",
            images=(ContainerImage("app", image, "spec.containers[0].image"),),
            owners=(rs,),
            labels={"app": name},
            phase="Running",
        )
        for i in range(count)
    ]


def test_every_image_is_fetched_once_for_all_pods_and_namespaces(
    images: Images, plain_registry: RegistryServer
) -> None:
    config = parse_settings(config_text(plain_registry.host), "test.yaml")
    # the engines slimgate audit builds
    engines = build_engines(
        config, observer=None, lineage="bounded", today=lambda: datetime(2025, 1, 1).date()
    )
    client = engines.client
    assert isinstance(client, RegistryClient)
    owners = Owners()
    pods = [
        *_pods(owners, "a", "web", images.golang, 20),
        *_pods(owners, "b", "web", images.golang, 20),
        *_pods(owners, "b", "cart", images.small, 5),
        *_pods(owners, "kube-system", "dns", images.big, 2),
    ]
    ticks: list[int] = []

    def progress(total: int) -> object:
        ticks.append(total)
        return lambda: ticks.append(-1)

    evaluate = engines.evaluate_audit(config.registry.platforms, 10.0)
    with client:
        client.counters.reset()
        summary = audit_pods(
            pods,
            owners,
            evaluate,
            generated=datetime.now(UTC),
            excluded=("kube-*",),
            progress=progress,  # type: ignore[arg-type]
        )
        requests_for_two_images = client.counters.requests()
        client.counters.reset()
        client.fetch(images.big, config.registry.platforms[0])
        requests_for_one_image = client.counters.requests()
    assert requests_for_two_images == 2 * requests_for_one_image
    assert [n.namespace for n in summary.namespaces] == ["a", "b"]
    assert summary.workloads == 3
    assert summary.replicas == 45
    # the bar's total is what is evaluated: three (image, namespace, labels) subjects
    assert ticks[0] == 3
    assert ticks.count(-1) == ticks[0]
    [offender] = summary.offenders
    assert offender.image == images.golang
    assert offender.replicas == 40
    assert summary.cost == offender.cost
