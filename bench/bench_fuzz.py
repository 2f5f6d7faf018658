"""Fuzz run: mutated AdmissionReviews against ``slimgate serve`` over TLS.

Run from the repository root: ``python bench/bench_fuzz.py [--reviews N]``. Results go to
``bench/results/fuzz.json``. What is served is the real thing: ``slimgate serve`` (one
worker, TLS with a throwaway CA, the default deadline) with the real engine and registry
client, and Debian's docker-registry on 127.0.0.1 holding the three images the seed
reviews name (so unmutated images are looked up for real and then memoised). The
configuration allows only that registry, so a mutated image reference is refused without
a DNS lookup.

``--reviews`` bodies (100,000 by default) come from ``tests.support.fuzz.mutations``:
fields dropped, retyped, nested or multiplied, strings mangled, bytes truncated or flipped,
invalid UTF-8, duplicate uids, nesting to a million. A separate process makes them (with
each request's uid), so that making them does not hold up the ``--clients`` threads that
post them on keep-alive connections and time the answers. A baseline of ``--baseline``
unmutated seed reviews is run first, on the same server and clients, for the latencies to
compare with. Each answer is judged by ``tests.support.fuzz.judge``; the result counts 5xx
answers, invalid answers, uid mismatches and connection errors, with the latency
percentiles and the worker's RSS and thread count at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import fuzz  # noqa: E402
from tests.support.images import ImageSpec, build_image, push  # noqa: E402
from tests.support.registry_server import free_port, start_registry  # noqa: E402

from slimgate.runtime.devcert import write_dev_certificates  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "fuzz.json"


def worker_status(parent: int) -> dict[str, float]:
    """RSS (MB) and threads of the serving worker: ``parent`` itself, or its one child when
    the server runs its worker in a process of its own."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    status: dict[str, float] = {}
    for pid in children or [str(parent)]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                status["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
            elif line.startswith("Threads:"):
                status["threads"] = int(line.split()[1])
    return status


def serve(root: Path, config: Path) -> tuple[subprocess.Popen[bytes], str, ssl.SSLContext]:
    certs = write_dev_certificates(root)
    port = free_port()
    log = (root / "webhook.log").open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "slimgate.webhook.serve", "--config", str(config)),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--tls-cert", str(certs.cert), "--tls-key", str(certs.key)),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SLIMGATE_WEBHOOK_WORKERS": "1"},
        cwd=root,
    )
    url = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(certs.ca))
    deadline = time.monotonic() + 30
    with httpx.Client(verify=context, timeout=5, trust_env=False) as client:
        while True:
            try:
                if client.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    return process, url, context


def produce(
    images: list[str], count: int, seed: int, queue: Queue[Any], mutated: bool = True
) -> None:
    """In a process of its own: every body with its uid, then one None per client. Without
    ``mutated``, the seed reviews themselves, in turn (the baseline)."""
    if mutated:
        bodies = fuzz.mutations(fuzz.seeds(images), count, seed=seed)
    else:
        seeds = [json.dumps(s).encode() for s in fuzz.seeds(images)]
        bodies = (seeds[i % len(seeds)] for i in range(count))
    for data in bodies:
        queue.put((data, fuzz.request_uid(data)))
    for _ in range(64):
        queue.put(None)


class Run:
    """The shared state of the client threads."""

    def __init__(self, bodies: Queue[Any]) -> None:
        self.bodies = bodies
        self.lock = threading.Lock()
        self.verdicts: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.examples: dict[str, str] = {}
        self.slowest: list[tuple[float, int, int]] = []  # seconds, status, body bytes

    def next_body(self) -> tuple[bytes, str | None] | None:
        item: tuple[bytes, str | None] | None = self.bodies.get()
        return item

    def record(self, verdict: str, status: int, seconds: float, data: bytes) -> None:
        with self.lock:
            self.verdicts[verdict] += 1
            self.statuses[status] += 1
            self.latencies.append(seconds)
            self.slowest = sorted([*self.slowest, (seconds, status, len(data))], reverse=True)[:10]
            if verdict != fuzz.OK and verdict not in self.examples:
                self.examples[verdict] = data[:300].decode("utf-8", "replace")


def client(run: Run, url: str, context: ssl.SSLContext) -> None:
    http = httpx.Client(verify=context, timeout=30, trust_env=False)
    try:
        while (item := run.next_body()) is not None:
            data, uid = item
            start = time.perf_counter()
            try:
                answer = http.post(
                    f"{url}/validate", content=data, headers={"content-type": "application/json"}
                )
            except httpx.TransportError:
                run.record("connection", 0, time.perf_counter() - start, data)
                http.close()
                http = httpx.Client(verify=context, timeout=30, trust_env=False)
                continue
            seconds = time.perf_counter() - start
            run.record(
                fuzz.judge(data, answer.status_code, answer.content, uid),
                answer.status_code,
                seconds,
                data,
            )
    finally:
        http.close()


def drive(
    images: list[str],
    count: int,
    seed: int,
    clients: int,
    url: str,
    context: ssl.SSLContext,
    mutated: bool,
) -> tuple[Run, float]:
    """Post ``count`` bodies with ``clients`` threads; the run and its seconds."""
    spawn = multiprocessing.get_context("spawn")
    queue: Queue[Any] = spawn.Queue(maxsize=256)
    producer = spawn.Process(
        target=produce, args=(images, count, seed, queue, mutated), daemon=True
    )
    producer.start()
    run = Run(queue)
    started = time.perf_counter()
    threads = [
        threading.Thread(target=client, args=(run, url, context), daemon=True)
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    producer.join(timeout=30)
    return run, elapsed


def latency(run: Run) -> dict[str, float]:
    ms = [s * 1000 for s in run.latencies]
    return {
        "p50": round(statistics.median(ms), 2),
        "p99": round(percentile(ms, 0.99), 2),
        "max": round(max(ms), 2),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--baseline", type=int, default=5_000, help="unmutated reviews first")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-log", type=Path, help="copy the webhook's log here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="slimgate-fuzz-"))
    registry = start_registry(root / "registry")
    process = None
    try:
        images = []
        for name in ("api", "web", "worker"):
            push(registry.url, f"fuzz/{name}", "1", build_image(ImageSpec(labels={"n": name})))
            images.append(f"{registry.host}/fuzz/{name}:1")
        config = root / "config.yaml"
        config.write_text(
            f'registry:\n  insecure: ["{registry.host}"]\n  allow: ["{registry.host}"]\n'
        )
        process, url, context = serve(root, config)
        start_status = worker_status(process.pid)
        baseline, _ = drive(images, args.baseline, args.seed, args.clients, url, context, False)
        run, elapsed = drive(images, args.reviews, args.seed, args.clients, url, context, True)
        time.sleep(2)  # let lookups the deadline cut off finish before the last sample
        end_status = worker_status(process.pid)
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        registry.stop()
    result: dict[str, Any] = {
        "what": "mutated AdmissionReviews posted to slimgate serve over TLS (1 worker), "
        "real engine and registry client, images on a local docker-registry",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "seed": args.seed,
        "clients": args.clients,
        "reviews": sum(run.verdicts.values()),
        "seconds": round(elapsed, 1),
        "reviews_per_second": round(sum(run.verdicts.values()) / elapsed, 1),
        "server_errors_5xx": sum(n for s, n in run.statuses.items() if s >= 500),
        "invalid_answers": run.verdicts[fuzz.INVALID],
        "uid_mismatches": run.verdicts[fuzz.UID_MISMATCH],
        "connection_errors": run.verdicts["connection"],
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "latency_ms": latency(run),
        "baseline": {
            "what": "the seed reviews unmutated, same clients and server, before the fuzz run",
            "reviews": sum(baseline.verdicts.values()),
            "not_ok": sum(n for v, n in baseline.verdicts.items() if v != fuzz.OK),
            "latency_ms": latency(baseline),
        },
        "slowest": [
            {"ms": round(seconds * 1000, 1), "status": status, "body_bytes": size}
            for seconds, status, size in run.slowest
        ],
        "worker_start": start_status,
        "worker_end": end_status,
        "first_failures": run.examples,
    }
    if args.keep_log is not None:
        shutil.copy(root / "webhook.log", args.keep_log)
    shutil.rmtree(root, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    bad = result["server_errors_5xx"] + result["invalid_answers"] + result["uid_mismatches"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
