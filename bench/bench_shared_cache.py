"""What the shared store (``registry.sharedCache``) saves, and what it costs.

Against Debian's ``docker-registry`` and ``redis-server`` on 127.0.0.1 (both started here),
with registry clients standing for processes (each its own local caches, sharing only the
store), all measured in one run:

1. **Registry requests** for N = 1, 2, 3 webhook replicas plus the operator: every process
   looks up the same ``--images`` new images (the replicas at the same moment, as a
   Deployment's pods arrive), then every process restarts (a rollout) and looks them up
   again. Counted by the registry's own access log, without and with the store.
2. **Warm-path throughput**: lookups of images already in the local cache per second of
   CPU, with the store configured and without it, in alternating rounds (the median of the
   rounds' ratios); it must stay within 5 %.
3. **A local miss served from the store**: a lookup of an image the store knows and the
   process does not (its connection to the store open; and, separately, the very first
   lookup of a new process, which connects), against a local hit and against a lookup
   from the registry on the same machine.

    python bench/bench_shared_cache.py [--images N] [--warm N] [--misses N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.images import ImageSpec, build_image, push  # noqa: E402
from tests.support.redis_server import RedisServer, start_redis  # noqa: E402
from tests.support.registry_server import RegistryServer, start_registry  # noqa: E402

from slimgate.model import Platform  # noqa: E402
from slimgate.registry import RegistryClient, RegistryOptions  # noqa: E402
from slimgate.registry.counters import Counters  # noqa: E402
from slimgate.registry.options import SharedCacheOptions  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "shared_cache.json"
PLATFORM = Platform()
WARM_LIMIT = 0.05


def options(registry: RegistryServer, store: RedisServer | None, secret: Path) -> RegistryOptions:
    shared = None
    if store is not None:
        shared = SharedCacheOptions(
            url=store.url, secret_file=str(secret), password_file=str(store.password_file)
        )
    return RegistryOptions(insecure={registry.host}, shared=shared)


def client(opts: RegistryOptions) -> RegistryClient:
    return RegistryClient.from_options(opts, observer=Counters())


def registry_reads(registry: RegistryServer, repository: str) -> int:
    return len(
        [
            line
            for line in registry.accesses(path_part=f"/v2/{repository}/")
            if line.startswith("GET ") or "/manifests/" in line
        ]
    )


def requests_for(
    registry: RegistryServer,
    store: RedisServer | None,
    secret: Path,
    replicas: int,
    images: int,
    run: str,
) -> int:
    """Registry reads for ``replicas`` webhooks plus the operator, through a rollout."""
    repository = f"bench/{run}"
    refs = []
    for n in range(images):
        push(
            registry.url, repository, f"v{n}", build_image(ImageSpec(env=[f"RUN={run}", f"N={n}"]))
        )
        refs.append(f"{registry.host}/{repository}:v{n}")
    if store is not None:
        flushing = store.client()
        flushing.flushall()
        flushing.close()
    opts = options(registry, store, secret)
    before = registry_reads(registry, repository)
    for _ in range(2):  # the first start, then a rollout: every process starts cold
        processes = [client(opts) for _ in range(replicas + 1)]
        webhooks, operator = processes[:-1], processes[-1]
        for ref in refs:
            start = threading.Barrier(len(webhooks))

            def review(c: RegistryClient, ref: str = ref, start: threading.Barrier = start) -> None:
                start.wait(timeout=30)
                c.fetch(ref, PLATFORM)

            with ThreadPoolExecutor(max_workers=len(webhooks)) as pool:
                for future in [pool.submit(review, c) for c in webhooks]:
                    future.result(timeout=60)
        for ref in refs:
            operator.fetch(ref, PLATFORM)
        for c in processes:
            c.close()
    time.sleep(0.5)  # the registry writes its access log line after the answer
    return registry_reads(registry, repository) - before


def lookups_per_cpu_second(c: RegistryClient, refs: list[str], seconds: float) -> float:
    """Warm lookups per second of this thread's CPU time: other work on the shared cores
    moves wall time far more than CPU time."""
    done = 0
    started = time.thread_time()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for ref in refs:
            c.fetch(ref, PLATFORM)
        done += len(refs)
    return done / (time.thread_time() - started)


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--warm-rounds", type=int, default=30)
    parser.add_argument("--warm-seconds", type=float, default=0.5)
    parser.add_argument("--misses", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        secret = root / "secret"
        secret.write_text("bench install secret\n")
        registry = start_registry(root / "registry", access_log=True)
        store = start_redis(root / "redis")
        try:
            fetch_sets: dict[str, dict[str, int | float]] = {}
            for replicas in (1, 2, 3):
                without = requests_for(
                    registry, None, secret, replicas, args.images, f"n{replicas}"
                )
                shared = requests_for(
                    registry, store, secret, replicas, args.images, f"s{replicas}"
                )
                fetch_sets[f"{replicas}+operator"] = {
                    "processes": replicas + 1,
                    "without_store": without,
                    "with_store": shared,
                    "ratio": round(shared / without, 3),
                }

            refs = []
            for n in range(20):
                push(registry.url, "bench/warm", f"v{n}", build_image(ImageSpec(env=[f"W={n}"])))
                refs.append(f"{registry.host}/bench/warm:v{n}")
            plain = client(options(registry, None, secret))
            stored = client(options(registry, store, secret))
            for c in (plain, stored):
                for ref in refs:
                    c.fetch(ref, PLATFORM)
            rates: dict[str, list[float]] = {"without_store": [], "with_store": []}
            ratios = []
            for round_ in range(args.warm_rounds):  # A B, then B A: neither always goes first
                order = [("without_store", plain), ("with_store", stored)]
                measured = {
                    name: lookups_per_cpu_second(c, refs, args.warm_seconds)
                    for name, c in (order if round_ % 2 == 0 else order[::-1])
                }
                for name, rate in measured.items():
                    rates[name].append(rate)
                ratios.append(measured["with_store"] / measured["without_store"])
            plain.close()
            warm_without = statistics.median(rates["without_store"])
            warm_with = statistics.median(rates["with_store"])
            warm_ratio = statistics.median(ratios)  # of each round's pair

            hits, from_store, from_registry, first = [], [], [], []
            push(registry.url, "bench/miss", "primer", build_image(ImageSpec(env=["PRIMER=1"])))
            primer = f"{registry.host}/bench/miss:primer"
            stored.fetch(primer, PLATFORM)
            for n in range(args.misses):
                ref = f"{registry.host}/bench/miss:v{n}"
                push(registry.url, "bench/miss", f"v{n}", build_image(ImageSpec(env=[f"M={n}"])))
                cold = client(options(registry, None, secret))
                from_registry.append(timed(lambda c=cold, r=ref: c.fetch(r, PLATFORM)))
                cold.close()
                stored.fetch(ref, PLATFORM)  # now the store knows it
                restarted = client(options(registry, store, secret))
                # its first lookup connects to the store; the next finds the connection open
                first.append(timed(lambda c=restarted: c.fetch(primer, PLATFORM)))
                from_store.append(timed(lambda c=restarted, r=ref: c.fetch(r, PLATFORM)))
                assert restarted.counters.requests() == 0, "the store should have answered"
                hits.append(timed(lambda c=restarted, r=ref: c.fetch(r, PLATFORM)))
                restarted.close()
            stored.close()
        finally:
            store.stop()
            registry.stop()

    result = {
        "benchmark": "registry.sharedCache: registry reads saved, warm path, store-served miss",
        "images": args.images,
        "registry_reads_first_start_and_rollout": fetch_sets,
        "warm_lookups_per_cpu_second": {
            "without_store": round(warm_without),
            "with_store": round(warm_with),
            "ratio": round(warm_ratio, 3),
            "ratio_is": "median of the rounds' with/without ratios (rounds alternate the order)",
            "limit": f"within {WARM_LIMIT:.0%}",
            "within_limit": abs(1 - warm_ratio) <= WARM_LIMIT,
        },
        "lookup_median_ms": {
            "local_hit": median_ms(hits),
            "local_miss_from_store": median_ms(from_store),
            "first_lookup_of_a_process_from_store": median_ms(first),
            "local_miss_from_registry": median_ms(from_registry),
            "store_added_over_hit_ms": round(median_ms(from_store) - median_ms(hits), 3),
            "store_vs_registry_ratio": round(
                statistics.median(from_store) / statistics.median(from_registry), 3
            ),
        },
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
