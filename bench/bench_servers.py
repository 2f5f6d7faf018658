"""Which server should run the webhook: the candidates measured side by side, in one run.

Run from the repository root: ``python bench/bench_servers.py`` (needs ``pip install -e
.[bench]`` for the candidates that slimgate does not depend on, plus ``wrk`` and ``nginx``).
Results go to ``bench/results/servers.json``.

Every candidate serves over TLS with the same certificate, one worker process, keep-alive
75 s, uvloop where it has a choice of loop:

- ``gunicorn-asgi``: gunicorn's own asgi worker (what ``slimgate serve`` ran before);
- ``uvicorn``: uvicorn with httptools (TLS in Python's ``ssl`` on uvloop);
- ``granian``: granian's ASGI interface (HTTP and TLS in Rust: hyper and rustls).

For each it measures, with ``nginx`` answering the same canned AdmissionReview as the ceiling
of this machine (``bench/nginx.conf.template``):

1. memory: RSS of the serving process before and after ``--connections`` new TLS
   connections to ``/healthz`` of the webhook app (one ``GET`` each, closed by the client,
   as kubelet probes do), and again after 5 s idle;
2. canned answer: ``bench/static_asgi.py`` under wrk (16 connections, keep-alive) — the
   server's own ceiling;
3. warm review: slimgate's webhook app (``bench/webhook_factory.py``) answering a 3-container
   Pod review whose images are cached, under the same load, with the CPU time the server's
   processes spent per review.

Throughput rounds are interleaved (candidate after candidate, ``--rounds`` times) and the
median is reported, because this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from tests.support import admission  # noqa: E402
from tests.support.hostile_client import Target, children, churn, rss_mb  # noqa: E402
from tests.support.images import ImageSpec, build_image, push  # noqa: E402
from tests.support.registry_server import free_port, start_registry  # noqa: E402

from bench_webhook import Nginx, wrk  # noqa: E402
from slimgate.runtime.devcert import write_dev_certificates  # noqa: E402

RESULTS = BENCH / "results" / "servers.json"
KEEPALIVE = 75


def command(server: str, port: int, cert: Path, key: Path, target: str, factory: bool) -> list[str]:
    py = sys.executable
    if server == "gunicorn-asgi":
        return [
            *(py, "-m", "gunicorn", "--chdir", str(BENCH), "-b", f"127.0.0.1:{port}"),
            *("-w", "1", "-k", "asgi", "--asgi-loop", "uvloop", "--keep-alive", str(KEEPALIVE)),
            *("--certfile", str(cert), "--keyfile", str(key), "--log-level", "warning"),
            f"{target}()" if factory else target,
        ]
    if server == "uvicorn":
        return [
            *(py, "-m", "uvicorn", "--app-dir", str(BENCH), "--host", "127.0.0.1"),
            *("--port", str(port), "--loop", "uvloop", "--http", "httptools"),
            *("--timeout-keep-alive", str(KEEPALIVE), "--ssl-certfile", str(cert)),
            *("--ssl-keyfile", str(key), "--log-level", "warning", "--no-access-log"),
            *(["--factory"] if factory else []),
            target,
        ]
    if server == "granian":
        return [
            *(py, "-m", "granian", "--working-dir", str(BENCH), "--interface", "asgi"),
            *("--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "1"),
            # granian's command line allows at most 60 s here (hyper's header read timeout,
            # which is also how long an idle keep-alive connection is kept)
            *("--no-ws", "--http1-header-read-timeout", "60000"),
            *("--ssl-certificate", str(cert), "--ssl-keyfile", str(key)),
            *("--ssl-protocol-min", "tls1.2", "--log-level", "warning"),
            *(["--factory"] if factory else []),
            target,
        ]
    raise ValueError(server)


MODULES = {"gunicorn-asgi": "gunicorn", "uvicorn": "uvicorn", "granian": "granian"}


@dataclass
class Served:
    """One candidate server process on a free port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def serving_pids(self) -> list[int]:
        """The worker processes (gunicorn and granian fork them; uvicorn serves itself)."""
        return children(self.process.pid) or [self.process.pid]

    def rss_mb(self) -> float:
        return round(max(rss_mb(pid) for pid in self.serving_pids()), 1)

    def cpu_seconds(self) -> float:
        ticks = 0
        for pid in [self.process.pid, *children(self.process.pid)]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(
    name: str, root: Path, cert: Path, key: Path, target: str, factory: bool, env: dict[str, str]
) -> Served:
    port = free_port()
    log = root / f"{name}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command(name, port, cert, key, target, factory),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            cwd=root,
        )
    served = Served(name, process, port, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {log.read_text()}") from None
            time.sleep(0.2)
    time.sleep(1.0)  # the worker imports its app after the socket is bound
    return served


@dataclass
class Rounds:
    canned: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    warm_p99: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    errors: float = 0.0


def warm_round(hook: Served, body: Path, seconds: int, connections: int, rounds: Rounds) -> None:
    cpu = hook.cpu_seconds()
    run = wrk(f"{hook.url}/validate", "post.lua", body, connections=connections, seconds=seconds)
    used = hook.cpu_seconds() - cpu
    rounds.warm.append(run["requests_per_second"])
    rounds.warm_p99.append(run.get("p99_ms", 0.0))
    rounds.cpu_us.append(round(used / max(run["requests"], 1) * 1e6, 1))
    rounds.errors += run["errors"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--churn", type=int, default=20_000, help="TLS connections for RSS")
    parser.add_argument("--servers", nargs="+", default=list(MODULES))
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    servers = [s for s in args.servers if importlib.util.find_spec(MODULES[s]) is not None]
    missing = sorted(set(args.servers) - set(servers))
    if missing:
        print(f"not installed (pip install -e .[bench]): {missing}", file=sys.stderr)
    root = Path(tempfile.mkdtemp(prefix="slimgate-servers-"))
    certs = write_dev_certificates(root)
    registry = start_registry(root / "registry")
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count()},
        "settings": {
            "wrk_connections": args.connections,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "churn_connections": args.churn,
        },
        "servers": {},
    }
    started: list[Served] = []
    nginx: Nginx | None = None
    try:
        names = []
        for i in range(3):
            push(registry.url, f"warm/app{i}", "1", build_image(ImageSpec(labels={"i": str(i)})))
            names.append(f"{registry.host}/warm/app{i}:1")
        review = admission.review(admission.pod(names))
        body = root / "review.json"
        body.write_text(json.dumps(review))
        config = root / "config.yaml"
        config.write_text(
            f'registry:\n  insecure: ["{registry.host}"]\n'
            "  cache: {maxEntries: 20000}\nwebhook:\n  timeoutSeconds: 5\n"
        )
        canned = json.dumps(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {"uid": review["request"]["uid"], "allowed": True},
            },
            separators=(",", ":"),
        )
        (root / "canned.json").write_text(canned)
        env = {
            "SLIMGATE_BENCH_CONFIG": str(config),
            "SLIMGATE_BENCH_RESPONSE": str(root / "canned.json"),
        }
        nginx = Nginx(root, certs.cert, certs.key, canned)
        hooks: dict[str, Served] = {}
        statics: dict[str, Served] = {}
        for name in servers:
            hooks[name] = start(name, root, certs.cert, certs.key, "webhook_factory:app", True, env)
            started.append(hooks[name])
            statics[name] = start(name, root, certs.cert, certs.key, "static_asgi:app", False, env)
            started.append(statics[name])
            for _ in range(3):  # the images into the caches, the code paths warm
                wrk(f"{hooks[name].url}/validate", "post.lua", body, connections=2, seconds=1)
        rounds = {name: Rounds() for name in servers}
        ceiling: list[float] = []
        for _ in range(args.rounds):
            ceiling.append(
                wrk(
                    f"{nginx.url}/validate",
                    "post.lua",
                    body,
                    connections=args.connections,
                    seconds=args.seconds,
                )["requests_per_second"]
            )
            for name in servers:
                static = wrk(
                    f"{statics[name].url}/validate",
                    "post.lua",
                    body,
                    connections=args.connections,
                    seconds=args.seconds,
                )
                rounds[name].canned.append(static["requests_per_second"])
                rounds[name].errors += static["errors"]
                warm_round(hooks[name], body, args.seconds, args.connections, rounds[name])
        nginx_rps = statistics.median(ceiling)
        result["static_nginx"] = {"requests_per_second": nginx_rps, "rounds": ceiling}
        for name in servers:
            hook = hooks[name]
            before = hook.rss_mb()
            target = Target("127.0.0.1", hook.port, certs.ca)
            churned = churn(target, args.churn)
            after = hook.rss_mb()
            time.sleep(5)
            idle = hook.rss_mb()
            r = rounds[name]
            warm = statistics.median(r.warm)
            result["servers"][name] = {
                "rss_mb_before": before,
                "rss_mb_after_churn": after,
                "rss_mb_after_idle": idle,
                "churn_connections_per_second": round(churned.connections / churned.seconds),
                "churn_failures": churned.failures,
                "canned_requests_per_second": statistics.median(r.canned),
                "warm_requests_per_second": warm,
                "warm_p99_ms": statistics.median(r.warm_p99),
                "warm_cpu_us_per_review": statistics.median(r.cpu_us),
                "warm_ratio_to_static_nginx": round(warm / max(nginx_rps, 1), 3),
                "errors": r.errors,
                "rounds": {"canned": r.canned, "warm": r.warm, "cpu_us": r.cpu_us},
            }
            print(name, json.dumps(result["servers"][name]), flush=True)
    finally:
        for served in started:
            served.stop()
        if nginx is not None:
            nginx.stop()
        registry.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"wrote {RESULTS}")
    return 0


def table(result: dict[str, Any]) -> str:
    nginx = result["static_nginx"]["requests_per_second"]
    n = result["settings"]["churn_connections"]
    rows = [
        f"| server | RSS before → after {n:,} TLS connections (→ 5 s idle) | canned answer | "
        "warm review | CPU per warm review | warm ÷ nginx |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in result["servers"].items():
        rows.append(
            f"| {name} | {s['rss_mb_before']} → {s['rss_mb_after_churn']} "
            f"(→ {s['rss_mb_after_idle']}) MB | {s['canned_requests_per_second']:,.0f} req/s | "
            f"{s['warm_requests_per_second']:,.0f} req/s, p99 {s['warm_p99_ms']} ms | "
            f"{s['warm_cpu_us_per_review']} µs | ×{s['warm_ratio_to_static_nginx']} |"
        )
    rows.append(f"| static nginx (2 workers) | | {nginx:,.0f} req/s | | | ×1 |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
