"""What slimgate adds to a pod create, measured through a real kube-apiserver.

The API server and kine are the e2e harness's (tests/e2e/cluster.py); pods are created by
``bench/apiload/podload`` (Go, HTTP/2 keep-alive, N concurrent clients) and stay Pending
(there is no scheduler). Four set-ups are measured in the same run, in turn, per round:

* ``none``: no webhook registered;
* ``noop``: ``bench/apiload/noopwebhook`` (Go: decode the review, echo the uid, allow),
  the floor any validating webhook pays; it speaks HTTP/2, so the API server sends every
  review over one connection;
* ``noop-http1``: the same program kept to HTTP/1.1, as slimgate's server is: the API
  server then opens a connection per concurrent call and keeps only some of them idle;
* ``slimgate``: ``slimgate serve`` (1 worker, enforce mode) with the pods' three images
  already looked up;
* ``slimgate-cold``: the same server, the pods' containers drawn from ten images of which
  eight were never looked up (pushed to the local registry just before the run).

The webhook configuration is the chart's shape: pods, CREATE, ``failurePolicy: Fail``,
``timeoutSeconds: 10``. Every set-up sees the same pods (3 containers). The CPU each
process used during a run is read from /proc, so the table shows where the time went.
Results: bench/results/apiserver.json. Run: ``.venv/bin/python bench/bench_apiserver.py``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trustme
from kubernetes import client as k8s_client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.cluster import KubeCluster, ensure_tools  # noqa: E402
from tests.support.images import ImageSpec, build_image, push  # noqa: E402
from tests.support.registry_server import RegistryServer, free_port, start_registry  # noqa: E402
from tests.support.served import ServedWebhook  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "apiserver.json"
APILOAD = ROOT / "bench" / "apiload"
WEBHOOK_NAME = "images.slimgate.io"
CONFIG = """
registry:
  insecure: ["127.0.0.1"]
policy:
  mode: enforce
webhook:
  timeoutSeconds: 10
"""
SETUPS = ("none", "noop", "noop-http1", "slimgate", "slimgate-cold")
LOADS = ((50, 500), (300, 1500))  # concurrent clients, pods


# -- the Go programs ------------------------------------------------------------------------


def build_go(name: str) -> Path:
    """Build ``bench/apiload/<name>`` once per source version, cached per user."""
    digest = hashlib.sha256()
    for path in sorted(APILOAD.rglob("*")):
        if path.is_file() and path.suffix in {".go", ".mod"}:
            digest.update(path.relative_to(APILOAD).as_posix().encode())
            digest.update(path.read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "slimgate"
    binary = cache / f"bench-{name}-{digest.hexdigest()[:16]}"
    if not binary.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        subprocess.run(
            ["go", "build", "-o", str(partial), f"./{name}"],
            cwd=APILOAD,
            check=True,
            env={**os.environ, "CGO_ENABLED": "0"},
        )
        partial.rename(binary)
    return binary


# -- processes and their CPU ----------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and of the processes it started, from /proc."""
    ticks = 0
    parents = {pid}
    for entry in sorted(
        Path("/proc").iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0
    ):
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) in parents or int(fields[1]) in parents:  # fields[1]: ppid
            parents.add(int(entry.name))
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class NoopWebhook:
    def __init__(self, binary: Path, cert: Path, key: Path, *, http2: bool = True) -> None:
        self.port = free_port()
        # Go's server speaks HTTP/2 to the API server when offered (ALPN); http2server=0
        # keeps it to HTTP/1.1 keep-alive, as slimgate's server speaks.
        env = {**os.environ, "GODEBUG": "http2server=0"} if not http2 else None
        self.process = subprocess.Popen(
            [
                str(binary),
                "-listen",
                f"127.0.0.1:{self.port}",
                "-tls-cert",
                str(cert),
                "-tls-key",
                str(key),
            ],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/validate"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_profile(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` (idle threads left out) until SIGINT, appending raw stacks."""
    output.parent.mkdir(parents=True, exist_ok=True)
    part = output.with_suffix(f".{time.monotonic_ns()}")
    spy = subprocess.Popen(
        [
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--output",
            str(part),
            "--rate",
            "250",
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    return spy


class AlternativeServer:
    """slimgate's webhook app (bench/webhook_factory.py) under another ASGI server, speaking
    HTTP/2 when the API server offers it: an experiment, not how slimgate serves."""

    def __init__(self, server: str, config: Path, cert: Path, key: Path) -> None:
        self.port = free_port()
        py = sys.executable
        bench = str(ROOT / "bench")
        if server == "granian-h2":
            command = [
                *(py, "-m", "granian", "--working-dir", bench, "--interface", "asgi"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--loop", "uvloop"),
                *("--http", "auto", "--no-ws", "--log-level", "warning", "--factory"),
                *("--ssl-certificate", str(cert), "--ssl-keyfile", str(key)),
                "webhook_factory:app",
            ]
        elif server == "hypercorn-h2":
            command = [
                *(py, "-m", "hypercorn", "--bind", f"127.0.0.1:{self.port}"),
                *("--certfile", str(cert), "--keyfile", str(key), "--worker-class", "uvloop"),
                *("--keep-alive", "75", "--log-level", "warning", "--root-path", ""),
                "webhook_factory:app()",
            ]
        else:
            raise ValueError(server)
        self.process = subprocess.Popen(
            command,
            cwd=bench,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "SLIMGATE_BENCH_CONFIG": str(config)},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{server} did not start")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/validate"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# -- the cluster side -----------------------------------------------------------------------


def register(api: k8s_client.ApiClient, url: str | None, ca_pem: bytes) -> None:
    """Point the one validating webhook at ``url`` (None: no webhook at all)."""
    admission = k8s_client.AdmissionregistrationV1Api(api)
    try:
        admission.delete_validating_webhook_configuration(WEBHOOK_NAME)
    except k8s_client.ApiException as exc:
        if exc.status != 404:
            raise
    if url is None:
        time.sleep(1.0)
        return
    admission.create_validating_webhook_configuration(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": WEBHOOK_NAME},
            "webhooks": [
                {
                    "name": WEBHOOK_NAME,
                    "admissionReviewVersions": ["v1"],
                    "sideEffects": "None",
                    "failurePolicy": "Fail",
                    "timeoutSeconds": 10,
                    "clientConfig": {"url": url, "caBundle": base64.b64encode(ca_pem).decode()},
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["pods"],
                        }
                    ],
                }
            ],
        }
    )
    time.sleep(1.0)  # the API server's webhook informer picks it up


@contextmanager
def namespace(api: k8s_client.ApiClient) -> Iterator[str]:
    core = k8s_client.CoreV1Api(api)
    name = f"load-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        # Unscheduled pods go at once; the namespace itself stays (nothing finalises it).
        core.delete_collection_namespaced_pod(name, grace_period_seconds=0)


def run_load(
    podload: Path,
    cluster: KubeCluster,
    ns: str,
    images: Sequence[str],
    concurrency: int,
    count: int,
) -> dict[str, Any]:
    command = [
        str(podload),
        *("-server", cluster.url, "-ca", str(cluster.ca_path)),
        *("-cert", str(cluster.admin_cert_path), "-key", str(cluster.admin_key_path)),
        *("-namespace", ns, "-count", str(count), "-concurrency", str(concurrency)),
        *("-images", ",".join(images), "-containers", "3"),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- images ---------------------------------------------------------------------------------


def push_images(registry: RegistryServer, repository: str, count: int) -> list[str]:
    """``count`` small images with distinct digests (nothing to say about them: allowed)."""
    names = []
    for n in range(count):
        built = build_image(dataclasses.replace(ImageSpec(), labels={"n": f"{repository}-{n}"}))
        push(registry.url, repository, str(n), built)
        names.append(f"{registry.host}/{repository}:{n}")
    return names


def cold_images(registry: RegistryServer, warm: Sequence[str]) -> list[str]:
    """Ten images, eight of them new: pod n takes images 3n..3n+2 (mod 10), so the first
    pods wait for lookups while the rest find them done."""
    fresh = push_images(registry, f"cold/{uuid.uuid4().hex[:8]}", 8)
    return [*warm[:2], *fresh]


# -- the run --------------------------------------------------------------------------------


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["pods_per_second"] for r in runs]
    p99s = [r["latency_ms"]["p99"] for r in runs]
    p50s = [r["latency_ms"]["p50"] for r in runs]
    statuses: dict[str, int] = {}
    for r in runs:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return {
        "pods_per_second": round(statistics.median(rates), 1),
        "pods_per_second_runs": [round(x, 1) for x in rates],
        "p50_ms": round(statistics.median(p50s), 1),
        "p99_ms": round(statistics.median(p99s), 1),
        "p99_ms_runs": [round(x, 1) for x in p99s],
        "statuses": statuses,
        "cpu_seconds_per_pod": {
            name: round(statistics.median(r["cpu"][name] for r in runs) / runs[0]["pods"], 6)
            for name in runs[0]["cpu"]
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--also",
        default="",
        help="comma-separated: granian-h2, hypercorn-h2 (slimgate's app under that server)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="after the measured rounds, record one more warm slimgate run per load with "
        "py-spy (raw stacks, one file per load, named after this path)",
    )
    parser.add_argument(
        "--loads", default=",".join(f"{c}x{n}" for c, n in LOADS), help="CONCURRENCYxPODS,..."
    )
    args = parser.parse_args(argv)
    loads = [tuple(int(x) for x in item.split("x")) for item in args.loads.split(",")]
    noop_binary, podload = build_go("noopwebhook"), build_go("podload")
    tools = ensure_tools()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="slimgate-bench-api-") as tmp:
        work = Path(tmp)
        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1")
        cert, key, ca_file = work / "tls.crt", work / "tls.key", work / "ca.crt"
        leaf.cert_chain_pems[0].write_to_path(cert)
        leaf.private_key_pem.write_to_path(key)
        ca.cert_pem.write_to_path(ca_file)
        ca_pem = ca.cert_pem.bytes()
        (work / "config").mkdir()
        (work / "config" / "config.yaml").write_text(CONFIG)
        registry = start_registry(work / "registry")
        cluster = KubeCluster(tools, work / "cluster")
        cluster.start()
        noop = NoopWebhook(noop_binary, cert, key)
        noop_http1 = NoopWebhook(noop_binary, cert, key, http2=False)
        webhook = ServedWebhook(work, work / "config" / "config.yaml", cert, key, ca_file)
        others = {
            name: AlternativeServer(name, work / "config" / "config.yaml", cert, key)
            for name in filter(None, args.also.split(","))
        }
        setups = (*SETUPS, *others)
        pids = {
            "kube-apiserver": cluster._apiserver.pid if cluster._apiserver else None,
            "kine": cluster._kine.pid if cluster._kine else None,
            "noop": noop.process.pid,
            "noop-http1": noop_http1.process.pid,
            "slimgate": webhook.process.pid,
            **{name: server.process.pid for name, server in others.items()},
        }
        try:
            api = cluster.api_client()
            warm = push_images(registry, "warm/app", 3)
            results: dict[str, dict[str, list[dict[str, Any]]]] = {}
            for concurrency, count in loads:
                key_name = f"{concurrency} concurrent, {count} pods"
                results[key_name] = {setup: [] for setup in setups}
                # warm-up: the API server's caches, the webhook's three images
                for url in (f"{webhook.url}/validate", *(o.url for o in others.values())):
                    register(api, url, ca_pem)
                    with namespace(api) as ns:
                        run_load(podload, cluster, ns, warm, concurrency, min(count, 200))
                for round_number in range(args.rounds):
                    order = setups if round_number % 2 == 0 else tuple(reversed(setups))
                    for setup in order:
                        urls = {"none": None, "noop": noop.url, "noop-http1": noop_http1.url}
                        urls |= {name: server.url for name, server in others.items()}
                        url = urls.get(setup, f"{webhook.url}/validate")
                        register(api, url, ca_pem)
                        images = cold_images(registry, warm) if setup == "slimgate-cold" else warm
                        with namespace(api) as ns:
                            before = {n: cpu_seconds(p) for n, p in pids.items() if p}
                            result = run_load(podload, cluster, ns, images, concurrency, count)
                            result["cpu"] = {
                                n: cpu_seconds(p) - before[n] for n, p in pids.items() if p
                            }
                        results[key_name][setup].append(result)
                        print(
                            f"{key_name:28} {setup:14} {result['pods_per_second']:7.1f} pods/s"
                            f"  p99 {result['latency_ms']['p99']:7.1f} ms  {result['statuses']}",
                            flush=True,
                        )
                if args.profile:  # an extra run, not measured: py-spy takes CPU of its own
                    register(api, f"{webhook.url}/validate", ca_pem)
                    with namespace(api) as ns:
                        spy = start_profile(webhook.process.pid, args.profile)
                        run_load(podload, cluster, ns, warm, concurrency, count)
                        spy.send_signal(signal.SIGINT)
                        spy.wait(30)
            register(api, None, ca_pem)
        finally:
            webhook.stop()
            noop.stop()
            noop_http1.stop()
            for server in others.values():
                server.stop()
            cluster.stop()
            registry.stop()
    table: dict[str, Any] = {}
    for key_name, by_setup in results.items():
        summary = {setup: summarise(runs) for setup, runs in by_setup.items()}
        floor = summary["noop"]
        for setup in summary:
            if setup in ("none", "noop"):
                continue
            summary[setup]["vs_noop"] = {
                "throughput": round(
                    summary[setup]["pods_per_second"] / floor["pods_per_second"], 2
                ),
                "p99": round(summary[setup]["p99_ms"] / floor["p99_ms"], 2),
            }
        table[key_name] = summary
    output = {
        "what": "pods created through kube-apiserver v1.34.4 (kine) by Go clients over HTTP/2, "
        "3 containers each, with no webhook, a Go no-op webhook and slimgate serve (1 worker)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "rounds": args.rounds,
        "results": table,
        "runs": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print(markdown(table))
    return 0


def markdown(table: dict[str, Any]) -> str:
    """The README's table: throughput and p99 against the no-op, CPU per pod by process."""
    lines = [
        "| load | set-up | pods/s (runs) | × no-op | p99 ms | × no-op | CPU µs per pod: "
        "API server / kine / webhook |",
        "|---|---|---|---|---|---|---|",
    ]
    for load, summary in table.items():
        for setup, row in summary.items():
            ratio = row.get("vs_noop", {})
            cpu = row["cpu_seconds_per_pod"]
            webhook = cpu.get(setup, 0.0) if setup not in ("none",) else 0.0
            if setup == "slimgate-cold":
                webhook = cpu.get("slimgate", 0.0)
            runs = ", ".join(f"{x:.0f}" for x in row["pods_per_second_runs"])
            lines.append(
                f"| {load} | {setup} | {row['pods_per_second']:.0f} ({runs}) "
                f"| {ratio.get('throughput', '')} | {row['p99_ms']:.0f} | {ratio.get('p99', '')} "
                f"| {cpu.get('kube-apiserver', 0) * 1e6:.0f} / {cpu.get('kine', 0) * 1e6:.0f} / "
                f"{webhook * 1e6:.0f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
