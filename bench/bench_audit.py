"""Cost of ``slimgate audit`` with many pods over fewer images, against a real registry.

Starts Debian's ``docker-registry`` on loopback, pushes ``--images`` small images (one in
five a single-stage Go build), then audits synthetic pod listings — Deployment →
ReplicaSet → Pod chains, ten pods per Deployment, spread over twenty namespaces — with
the same code ``slimgate audit`` runs after it has read the cluster
(:func:`slimgate.cli.audit.audit_pods`: owner resolution, grouping, evaluation through
the real registry client and the engine, summary, bloat cost).

For each (pods, images) case, with a fresh registry client:

* ``cold``: the first audit; the registry counters give the fetch sets (config blobs
  fetched), which must equal the number of distinct images however many pods run them;
* ``warm``: the same audit again on the warm client — manifests, configs and tags all
  cached — so its process CPU time (``time.process_time()``, every thread) is the work
  outside network I/O: owners, grouping, analysis, policy, aggregation.

The target: 10,000 pods over 500 images, fetch sets = 500 and warm CPU <= 10 s. Results
(and how cost grows with pods versus distinct images) go to ``bench/results/audit.json``.

    python bench/bench_audit.py [--images 500] [--pods 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.images import ImageSpec, build_image, push  # noqa: E402
from tests.support.registry_server import start_registry  # noqa: E402

from slimgate.audit.owners import OwnedObject  # noqa: E402
from slimgate.audit.workloads import (  # noqa: E402
    ContainerImage,
    OwnerReference,
    PodRecord,
    WorkloadRef,
)
from slimgate.cli.audit import PULL_SECRET_BUDGET_SECONDS, audit_pods  # noqa: E402
from slimgate.config import parse_settings  # noqa: E402
from slimgate.registry import RegistryClient  # noqa: E402
from slimgate.wiring import build_engines  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "audit.json"
TARGET_CPU_SECONDS = 10.0
PODS_PER_DEPLOYMENT = 10
NAMESPACES = 20
GO_PATH = "PATH=/go/bin:/usr/local/go/bin:/usr/bin:/bin"


def spec(i: int) -> ImageSpec:
    if i % 5 == 0:
        return ImageSpec(
            history=(
                ("/bin/sh -c #(nop) ADD file:4b1b8d0a0d5f in / ", 512),
                ("ENV GOLANG_VERSION=1.23.4", None),
                (f"ENV {GO_PATH}", None),
                ("COPY . . # buildkit", 256),
                ("RUN /bin/sh -c go build -o /app . # buildkit", 256),
            ),
            env=(GO_PATH, "GOLANG_VERSION=1.23.4", f"APP={i}"),
        )
    return ImageSpec(env=("PATH=/usr/bin:/bin", f"APP={i}"))


def push_all(url: str, count: int) -> float:
    started = time.perf_counter()

    def one(i: int) -> None:
        push(url, f"bench/app{i}", "1.0", build_image(spec(i)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


class Owners:
    def __init__(self, objects: dict[tuple[str, str, str], OwnedObject]) -> None:
        self.objects = objects

    def __call__(self, namespace: str, owner: OwnerReference) -> OwnedObject | None:
        return self.objects.get((namespace, owner.kind, owner.name))


def listing(host: str, pods: int, images: int) -> tuple[list[PodRecord], Owners]:
    """``pods`` pods in Deployments (ten pods each, fewer when needed to use every image);
    Deployment ``d`` runs image ``d % images``."""
    records: list[PodRecord] = []
    objects: dict[tuple[str, str, str], OwnedObject] = {}
    deployments = max(pods // PODS_PER_DEPLOYMENT, images)
    per_deployment = max(1, pods // deployments)
    for d in range(deployments):
        namespace = f"team-{d % NAMESPACES:02d}"
        name, rs = f"app-{d}", f"app-{d}-5f7c9"
        deployment = WorkloadRef(namespace, "Deployment", name, "apps/v1", f"uid-d-{d}")
        objects[(namespace, "Deployment", name)] = OwnedObject(deployment)
        objects[(namespace, "ReplicaSet", rs)] = OwnedObject(
            WorkloadRef(namespace, "ReplicaSet", rs, "apps/v1", f"uid-rs-{d}"),
            (OwnerReference("apps/v1", "Deployment", name, f"uid-d-{d}", True),),
        )
        image = f"{host}/bench/app{d % images}:1.0"
        for p in range(per_deployment):
            records.append(
                PodRecord(
                    namespace,
                    f"{rs}-{p}",
                    f"uid-{d}-{p}",
                    images=(ContainerImage("app", image, "spec.containers[0].image"),),
                    owners=(OwnerReference("apps/v1", "ReplicaSet", rs, f"uid-rs-{d}", True),),
                    labels={"app": name, "pod-template-hash": "5f7c9"},
                    phase="Running",
                )
            )
    return records, Owners(objects)


def _config(host: str) -> Any:
    return parse_settings(
        f"registry: {{insecure: ['{host}'], knownToolchainImages: []}}\n", "bench-config.yaml"
    )


def gets_per_image(host: str) -> int:
    """GET requests one cold fetch of one image costs: its manifest and its config blob.

    (A tag is resolved with a HEAD first; when that fails the client GETs the manifest by
    tag instead, so GETs, not all requests, count fetch sets exactly.)
    """
    config = _config(host)
    with RegistryClient.from_options(config.registry.options) as client:
        client.fetch(f"{host}/bench/app1:1.0", config.registry.platforms[0])
        return client.counters.requests(method="GET")


def audit_case(host: str, pods: int, images: int, per_image: int) -> dict[str, Any]:
    config = _config(host)
    # The engines slimgate audit builds, with its arguments.
    engines = build_engines(
        config,
        observer=None,
        lineage="bounded",
        today=lambda: datetime(2025, 1, 1, tzinfo=UTC).date(),
    )
    client = engines.client
    assert isinstance(client, RegistryClient)
    evaluate = engines.evaluate_audit(config.registry.platforms, PULL_SECRET_BUDGET_SECONDS)
    records, owners = listing(host, pods, images)

    runs: dict[str, Any] = {}
    for phase in ("cold", "warm"):
        client.counters.reset()
        cpu, wall = time.process_time(), time.perf_counter()
        summary = audit_pods(
            records, owners, evaluate, generated=datetime.now(UTC), workers=4, top=10
        )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        runs[phase] = {
            "cpu_seconds": round(cpu, 3),
            "wall_seconds": round(wall, 3),
            "requests": client.counters.requests(),
            "gets": client.counters.requests(method="GET"),
            "fetch_sets": client.counters.requests(method="GET") / per_image,
            "workloads": summary.workloads,
            "replicas": summary.replicas,
            "distinct_images": summary.images,
            "fail_results": summary.counts["fail"],
            "bloat_cost_bytes": summary.cost,
        }
    engines.close()
    return {"pods": pods, "images": images, **runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--pods", type=int, default=10_000)
    args = parser.parse_args()
    small_images, small_pods = max(1, args.images // 5), max(10, args.pods // 5)
    with tempfile.TemporaryDirectory(prefix="slimgate-bench-audit-") as tmp:
        server = start_registry(Path(tmp) / "registry")
        try:
            push_seconds = push_all(server.url, args.images)
            per_image = gets_per_image(server.host)
            cases = [
                audit_case(server.host, pods, images, per_image)
                for pods, images in (
                    (small_pods, small_images),
                    (args.pods, small_images),
                    (small_pods, args.images),
                    (args.pods, args.images),
                )
            ]
        finally:
            server.stop()
    by = {(c["pods"], c["images"]): c for c in cases}
    big = by[(args.pods, args.images)]
    base = by[(small_pods, small_images)]

    def ratio(a: tuple[int, int], b: tuple[int, int]) -> float:
        top: float = by[a]["warm"]["cpu_seconds"]
        bottom: float = by[b]["warm"]["cpu_seconds"]
        return round(top / max(bottom, 1e-6), 2)

    target = {
        "pods": args.pods,
        "images": args.images,
        "fetch_sets": big["cold"]["fetch_sets"],
        "fetch_sets_ok": big["cold"]["fetch_sets"] == args.images,
        "warm_cpu_seconds": big["warm"]["cpu_seconds"],
        "cold_cpu_seconds": big["cold"]["cpu_seconds"],
        "cpu_limit_seconds": TARGET_CPU_SECONDS,
        "cpu_ok": big["warm"]["cpu_seconds"] <= TARGET_CPU_SECONDS,
        "baseline_warm_cpu_seconds": base["warm"]["cpu_seconds"],
    }
    result = {
        "benchmark": "audit",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "push_seconds": round(push_seconds, 1),
        "gets_per_image": per_image,
        "cases": cases,
        "growth": {
            "pods_x5_same_images_cpu_ratio": ratio(
                (args.pods, small_images), (small_pods, small_images)
            ),
            "images_x5_same_pods_cpu_ratio": ratio(
                (small_pods, args.images), (small_pods, small_images)
            ),
            "both_x5_cpu_ratio": ratio((args.pods, args.images), (small_pods, small_images)),
            "cold_fetch_sets_by_pods_images": [
                (c["pods"], c["images"], c["cold"]["fetch_sets"]) for c in cases
            ],
        },
        "target": target,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if target["fetch_sets_ok"] and target["cpu_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
